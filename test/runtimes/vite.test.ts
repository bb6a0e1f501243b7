/**
 * One install, every runtime (Vite): a browser app that does `import { analyze } from "cntscope"`,
 * built with `vite build` (the production bundler, not the dev server) in the temporary project
 * where the packed tarball is installed, served as static files on 127.0.0.1 and opened in
 * headless Chromium, gives the Node report bit for bit.
 *
 * dist/kernels/load.js finds the kernels with `new URL("../cntscope.wasm", import.meta.url)`; Vite
 * must see that pattern inside node_modules, emit the wasm as a hashed asset and rewrite the URL
 * to it, with no extra configuration: the build below uses Vite's defaults (only root, outDir
 * and logging are set), as a user's `vite.config` would not mention cntscope at all.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Browser } from "playwright-core";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, toJSON } from "../../src/entry/node-core.js";
import { STEP_MS, launchLoggedPage, startServer, withTimeout, type StaticServer } from "../browser/harness.js";
import { installPacked } from "./packed.js";

const MODEL_NAME = "digits-mlp.safetensors";
const OPTIONS = { perNode: true, name: MODEL_NAME };

const INDEX_HTML = `<!doctype html>
<html>
  <head><meta charset="utf-8"><title>cntscope with Vite</title></head>
  <body><script type="module" src="/main.js"></script></body>
</html>
`;

/** The app: the README's browser usage, against the installed package. */
const MAIN_JS = `import { analyze, toJSON } from "cntscope";

async function main() {
  const response = await fetch("/${MODEL_NAME}");
  if (!response.ok) throw new Error("HTTP " + response.status + " for /${MODEL_NAME}");
  const bytes = new Uint8Array(await response.arrayBuffer());
  const report = await analyze(bytes, ${JSON.stringify(OPTIONS)});
  window.__result = toJSON(report);
}

main().catch((error) => {
  window.__error = String((error && error.stack) || error);
});
`;

interface Built {
  version: string;
  root: string;
  outDir: string;
  /** Output files relative to outDir. */
  files: string[];
  /** The emitted wasm asset, relative to outDir. */
  wasm: string[];
  /** Package files (relative to node_modules/cntscope) the build parsed. */
  packageModules: string[];
  /** Vite's warnings and errors. */
  log: string[];
  ms: number;
}

interface RollupChunk {
  type: "chunk" | "asset";
  fileName: string;
}

let built: Promise<Built> | undefined;
let server: StaticServer | undefined;
let browser: Browser | undefined;
let webRoot: string | undefined;
const started = Date.now();

function listFiles(dir: string, base = dir, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listFiles(path, base, out);
    else out.push(relative(base, path).split("\\").join("/"));
  }
  return out;
}

/** Write the app into the temporary project and run `vite build` on it (once). */
function viteBuild(): Promise<Built> {
  built ??= (async () => {
    const packed = installPacked();
    let vite: typeof import("vite");
    try {
      vite = await import("vite");
    } catch (error) {
      throw new Error(`vite is not installed in the repository (it is a devDependency: run \`npm install\`): ${String(error)}`);
    }

    const root = join(packed.app, "vite-app");
    webRoot = root;
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, "public"), { recursive: true });
    writeFileSync(join(root, "index.html"), INDEX_HTML);
    writeFileSync(join(root, "main.js"), MAIN_JS);
    const model = join(packed.app, "node_modules", "cntscope", "models", MODEL_NAME);
    if (!existsSync(model)) throw new Error(`the installed package has no models/${MODEL_NAME}`);
    copyFileSync(model, join(root, "public", MODEL_NAME));

    const log: string[] = [];
    const base = vite.createLogger("warn", { allowClearScreen: false });
    const logger = {
      ...base,
      info: () => {},
      warn: (msg: string) => void log.push(`warn: ${msg}`),
      warnOnce: (msg: string) => void log.push(`warn: ${msg}`),
      error: (msg: string) => void log.push(`error: ${msg}`),
      clearScreen: () => {},
    };
    const outDir = join(root, "dist");
    const parsed = new Set<string>();
    const t0 = performance.now();
    let output: unknown;
    try {
      output = await withTimeout(
        vite.build({
          root,
          configFile: false,
          envFile: false,
          logLevel: "warn",
          customLogger: logger,
          cacheDir: join(root, ".vite"),
          build: { outDir, emptyOutDir: true, reportCompressedSize: false },
          // Only watches: records every module the build parses (re-export-only modules such as
          // dist/index.js leave no trace in the output chunks).
          plugins: [{ name: "record-modules", moduleParsed: (info: { id: string }) => void parsed.add(info.id) }],
        }),
        "vite build",
      );
    } catch (error) {
      throw new Error(`vite build failed: ${String(error)}\n  ${log.join("\n  ")}`);
    }
    const ms = performance.now() - t0;

    const outputs = (Array.isArray(output) ? output : [output]) as { output?: RollupChunk[] }[];
    if (!outputs.some((o) => o.output?.some((c) => c.type === "chunk"))) throw new Error("vite build returned no JavaScript chunk");
    const pkgDir = join(packed.app, "node_modules", "cntscope") + "/";
    const packageModules = [...new Set([...parsed].filter((id) => id.startsWith(pkgDir)).map((id) => id.slice(pkgDir.length)))].sort();
    if (!existsSync(outDir)) throw new Error(`vite build wrote no ${relative(packed.app, outDir)}/`);
    const files = listFiles(outDir).sort();
    return { version: vite.version, root, outDir, files, wasm: files.filter((f) => f.endsWith(".wasm")), packageModules, log, ms };
  })();
  return built;
}

test.after(async () => {
  // uvu runs `after` in a finally: close whatever was opened, each bounded, then remove the app.
  await withTimeout(browser?.close() ?? Promise.resolve(), "Closing Chromium").catch((error) => console.error(String(error)));
  await withTimeout(server?.close() ?? Promise.resolve(), "Closing the HTTP server").catch((error) => console.error(String(error)));
  if (webRoot) rmSync(webRoot, { recursive: true, force: true });
  if (process.env.CNTSCOPE_TEST_VERBOSE) console.log(`\n  vite test: ${Date.now() - started} ms`);
});

test("vite build bundles the browser core of the installed package and emits cntscope.wasm as an asset", async () => {
  const b = await viteBuild();
  console.log(`  vite ${b.version}: built in ${Math.round(b.ms)} ms: ${b.files.join(", ")}`);
  const errors = b.log.filter((line) => line.startsWith("error:"));
  assert.equal(errors, [], "vite build logged errors");

  assert.ok(b.packageModules.includes("dist/index.js"), `"cntscope" must resolve to dist/index.js (the "default" condition) in a browser build; bundled: ${b.packageModules.join(", ")}`);
  assert.ok(b.packageModules.includes("dist/kernels/load.js"), `dist/kernels/load.js was not bundled: ${b.packageModules.join(", ")}`);
  const nodeOnly = b.packageModules.filter((p) => p.startsWith("dist/node/") || p.startsWith("dist/entry/"));
  assert.equal(nodeOnly, [], "a browser build must not take the Node or workerd entries");

  assert.is(b.wasm.length, 1, `vite build must emit cntscope.wasm as one asset (from new URL("../cntscope.wasm", import.meta.url) in dist/kernels/load.js); it wrote: ${b.files.join(", ")}`);
  const packageWasm = readFileSync(join(installPacked().app, "node_modules", "cntscope", "dist", "cntscope.wasm"));
  assert.ok(readFileSync(join(b.outDir, b.wasm[0]!)).equals(packageWasm), `${b.wasm[0]} is not the package's dist/cntscope.wasm`);

  const js = b.files.filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(b.outDir, f), "utf8")).join("\n");
  const wasmName = b.wasm[0]!.split("/").at(-1)!;
  assert.ok(js.includes(wasmName), `the bundle never names the emitted ${wasmName}: Vite did not rewrite the wasm URL`);
  assert.not.ok(js.includes('"../cntscope.wasm"'), "the bundle still fetches ../cntscope.wasm relative to itself");
  assert.ok(b.files.includes(MODEL_NAME), `public/${MODEL_NAME} was not copied to the output`);
});

test("the built app in headless Chromium gives the Node report bit for bit", async () => {
  const b = await viteBuild();
  const expected = toJSON(await analyze(readFileSync(join(b.root, "public", MODEL_NAME)), OPTIONS));
  assert.ok(expected.includes('"perNode"'), "the Node report has no per-node strengths");

  server = await startServer({ pages: { "/": readFileSync(join(b.outDir, "index.html"), "utf8") }, files: {}, dirs: { "/": b.outDir } });
  const opened = await launchLoggedPage(server);
  browser = opened.browser;
  const { page, why } = opened;

  type Out = { result?: string; error?: string };
  let out: Out;
  try {
    await page.goto(`${server.origin}/`, { waitUntil: "load", timeout: STEP_MS });
    await page.waitForFunction(() => {
      const w = window as unknown as { __result?: string; __error?: string };
      return w.__result !== undefined || w.__error !== undefined;
    }, null, { timeout: STEP_MS });
    out = await page.evaluate(() => {
      const w = window as unknown as { __result?: string; __error?: string };
      return { result: w.__result, error: w.__error };
    });
  } catch (error) {
    throw new Error(`The built app produced no report: ${String(error)}${why()}`);
  }
  if (out.error !== undefined) assert.unreachable(`analyze() failed in the Vite-built app: ${out.error}${why()}`);
  assert.type(out.result, "string");

  const wasmPath = "/" + b.wasm[0];
  assert.ok(
    server.log.some((line) => line.startsWith(`GET ${wasmPath} 200 application/wasm`)),
    `the app never fetched ${wasmPath} as application/wasm:\n  ${server.log.join("\n  ")}`,
  );
  const bad = server.log.filter((line) => !/ 200 /.test(line) && !line.includes("/favicon.ico"));
  assert.equal(bad, [], "the app asked for files the build does not have");
  assert.is(out.result, expected, "the Vite-built app and Node give different reports");
});

test.run();
