/**
 * workerd (Cloudflare's runtime) through miniflare, with Workers bundled the way wrangler bundles
 * them: esbuild resolving package exports with the conditions "workerd", "worker", "browser",
 * and every `.wasm` import left as an import of a file beside the bundle, which miniflare's
 * CompiledWasm rule hands to workerd as a module (workerd compiles it when it loads the Worker;
 * it refuses to compile bytes at run time). Used by workerd.test.ts and bench/cold-start.bench.ts.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as esbuild from "esbuild";
import { Miniflare } from "miniflare";
import { installPacked } from "./packed.js";

/** As wrangler's bundler resolves package exports. */
export const WRANGLER_CONDITIONS = ["workerd", "worker", "browser"];
export const COMPATIBILITY_DATE = "2025-01-01";

/** A Worker that relies on the "workerd" entry: no init(). */
export const AUTO_WORKER = `import { analyze, toJSON } from "cntscope";
export default {
  async fetch(request) {
    const report = await analyze(new Uint8Array(await request.arrayBuffer()));
    return new Response(toJSON(report), { headers: { "content-type": "application/json" } });
  },
};
`;

/** The README's Worker: the wasm imported as a module and handed to init(); works with either entry. */
export const README_WORKER = `import wasm from "cntscope/cntscope.wasm"; // a WebAssembly.Module in workerd
import { init, analyze, toJSON } from "cntscope";
export default {
  async fetch(request) {
    await init(wasm);
    const report = await analyze(new Uint8Array(await request.arrayBuffer()));
    return new Response(toJSON(report), { headers: { "content-type": "application/json" } });
  },
};
`;

export interface BundledWorker {
  scriptPath: string;
  /** The package files esbuild took, relative to the package root. */
  inputs: string[];
  code: string;
}

/**
 * Bundle a Worker as wrangler would: ESM, the given export conditions, every `.wasm` import
 * left as an import of a file copied beside the bundle (miniflare's CompiledWasm rule loads it).
 */
export async function bundleWorker(source: string, outDir: string, conditions: string[]): Promise<BundledWorker> {
  const { app } = installPacked();
  mkdirSync(outDir, { recursive: true });
  const entry = join(app, `${outDir.split("/").at(-1)}-worker.mjs`);
  writeFileSync(entry, source);
  const scriptPath = join(outDir, "worker.js");
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile: scriptPath,
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions,
    metafile: true,
    logLevel: "silent",
    plugins: [
      {
        name: "compiled-wasm",
        setup(build) {
          build.onResolve({ filter: /\.wasm$/ }, async (args) => {
            if (args.pluginData === "inner") return undefined;
            const resolved = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: "inner" });
            if (resolved.errors.length > 0) return { errors: resolved.errors };
            const name = resolved.path.split("/").at(-1)!;
            copyFileSync(resolved.path, join(outDir, name));
            return { path: `./${name}`, external: true };
          });
        },
      },
    ],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .map((p) => /node_modules\/cntscope\/(.*)$/.exec(p)?.[1])
    .filter((p): p is string => p !== undefined);
  return { scriptPath, inputs, code: readFileSync(scriptPath, "utf8") };
}

/** Start workerd with the given Workers (the first answers on the loopback URL). */
export function startWorkerd(workers: { name: string; scriptPath: string }[]): Miniflare {
  return new Miniflare({
    host: "127.0.0.1",
    workers: workers.map((w) => ({
      name: w.name,
      modules: true,
      scriptPath: w.scriptPath,
      modulesRoot: dirname(w.scriptPath),
      modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
      compatibilityDate: COMPATIBILITY_DATE,
    })),
  });
}
