/**
 * One install, every runtime (3): Bun and Deno, both npm devDependencies, run the same smoke
 * script as Node against the installed tarball (the README's "Use" section: "cntscope" and
 * "cntscope/node"), and the browser-safe core by path (the wasm fetched beside the module, as
 * in a browser). Every report must equal Node's JSON text. A runtime that cannot run fails the
 * test: both install and run on this project's machines (shared/spec/runtimes.md).
 */
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { describe, installPacked, nodeReports, parseSmoke, run, runtimeBinary } from "./packed.js";

const ARCH: Record<string, string> = { x64: "x64", arm64: "aarch64" };

interface Runtime {
  name: string;
  version: string;
  binary: string | undefined;
  /** Arguments before the script. */
  args: string[];
  env(app: string): NodeJS.ProcessEnv;
}

const RUNTIMES: Runtime[] = [
  {
    name: "bun",
    version: "1.4.5",
    binary: runtimeBinary([`@oven/bun-${process.platform}-${ARCH[process.arch] ?? process.arch}/bin/bun`, "bun/bin/bun.exe"]),
    args: ["--no-install"], // never fetch a missing package
    env: (app) => ({ ...process.env, DO_NOT_TRACK: "1", BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0", BUN_INSTALL_CACHE_DIR: join(app, ".bun-cache") }),
  },
  {
    name: "deno",
    version: "2.9.6",
    binary: runtimeBinary([`@deno/${process.platform}-${process.arch}-glibc/deno`]),
    // --allow-read: the wasm beside the module and the model; node_modules as npm laid it out.
    args: ["run", "--allow-read", "--node-modules-dir=manual", "--no-config"],
    env: (app) => ({ ...process.env, DENO_DIR: join(app, ".deno"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }),
  },
];

for (const runtime of RUNTIMES) {
  test(`${runtime.name}: the installed package's reports equal Node's`, () => {
    assert.ok(
      runtime.binary,
      `${runtime.name} ${runtime.version} is a devDependency but its binary is not in node_modules (npm ci installs it with its platform package); run npm ci`,
    );
    const { app } = installPacked();
    const env = runtime.env(app);
    const version = run(runtime.binary, ["--version"], { env, timeoutMs: 20_000 });
    assert.is(version.status, 0, describe(`${runtime.name} --version`, version));
    assert.ok(version.stdout.includes(runtime.version), `expected ${runtime.name} ${runtime.version}, got ${version.stdout.trim()}`);

    const node = nodeReports();
    const smoke = run(runtime.binary, [...runtime.args, "smoke.mjs"], { cwd: app, env });
    const out = parseSmoke(smoke, `${runtime.name} smoke.mjs`);
    console.log(`  ${out.runtime}: "cntscope" resolved to ${out.entry}; smoke script in ${Math.round(smoke.ms)} ms (process included)`);
    assert.ok(out.file === node.file, `${runtime.name}: analyzeFile ("cntscope/node") report differs from Node's`);
    assert.ok(out.bytes === node.bytes, `${runtime.name}: analyze(bytes) ("cntscope") report differs from Node's`);

    const core = parseSmoke(run(runtime.binary, [...runtime.args, "core.mjs"], { cwd: app, env }), `${runtime.name} core.mjs`);
    assert.ok(core.bytes === node.bytes, `${runtime.name}: the core entry (wasm fetched beside the module) report differs from Node's`);
  });
}

test.run();
