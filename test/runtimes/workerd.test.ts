/**
 * One install, every runtime (2): the packed package inside workerd (Cloudflare's runtime, run
 * here through miniflare), bundled the way wrangler bundles a Worker.
 *
 * wrangler bundles with esbuild, resolving package exports with the conditions "workerd",
 * "worker", "browser", and turns each `.wasm` import into a CompiledWasm module that workerd
 * compiles when it loads the Worker (compiling bytes at run time is refused there). The test
 * does the same with esbuild and miniflare's CompiledWasm module rule, for two Workers:
 *  - "auto": bundled with wrangler's conditions, so "cntscope" is dist/entry/workerd.js, which
 *    imports the wasm itself: `analyze()` with no `init()`;
 *  - "init": bundled without the "workerd" condition (any other bundler), so "cntscope" is the
 *    browser-safe core, and the Worker is the README's example: `import wasm from
 *    "cntscope/cntscope.wasm"; await init(wasm)`. It first shows that compiling bytes is refused.
 * Both analyze the bundled model POSTed over loopback; their JSON must equal Node's, byte for byte.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MODEL, installPacked, nodeReports } from "./packed.js";
import { AUTO_WORKER, WRANGLER_CONDITIONS, bundleWorker, startWorkerd } from "./workerd-harness.js";

const INIT_WORKER = `import wasm from "cntscope/cntscope.wasm"; // a WebAssembly.Module in workerd
import { init, analyze, toJSON } from "cntscope";
export default {
  async fetch(request) {
    const body = new Uint8Array(await request.arrayBuffer());
    if (new URL(request.url).pathname === "/compile-bytes") {
      const out = { importIsModule: wasm instanceof WebAssembly.Module, validates: WebAssembly.validate(body) };
      try { await WebAssembly.compile(body); out.compile = "compiled"; } catch (e) { out.compile = e.name + ": " + e.message; }
      try { await init(body); out.init = "initialized"; } catch (e) { out.init = e.code + ": " + e.message; }
      return Response.json(out);
    }
    await init(wasm);
    const report = await analyze(body);
    return new Response(toJSON(report), { headers: { "content-type": "application/json" } });
  },
};
`;

test("workerd: the packed package analyzes a POSTed model, with the workerd entry and with init(wasm); bytes are refused", async () => {
  const { app } = installPacked();
  const model = readFileSync(join(app, MODEL));
  const wasmBytes = readFileSync(join(app, "node_modules/cntscope/dist/cntscope.wasm"));

  const auto = await bundleWorker(AUTO_WORKER, join(app, "workers", "auto"), WRANGLER_CONDITIONS);
  assert.ok(auto.inputs.includes("dist/entry/workerd.js"), `with wrangler's conditions "cntscope" must resolve to dist/entry/workerd.js; esbuild took ${auto.inputs.join(", ")}`);
  // Checked after the init(wasm) Worker has run, so one failure does not hide the other results.
  const autoKeepsEntry = /import \w+ from "\.\/cntscope\.wasm"/.test(auto.code) && /setDefaultWasmProvider\(async \(\) => \w+\)/.test(auto.code);
  const init = await bundleWorker(INIT_WORKER, join(app, "workers", "init"), ["worker", "browser"]);
  assert.ok(init.inputs.includes("dist/index.js") && !init.inputs.includes("dist/entry/workerd.js"), `without the workerd condition "cntscope" must be the core; esbuild took ${init.inputs.join(", ")}`);

  const mf = startWorkerd([
    { name: "auto", scriptPath: auto.scriptPath },
    { name: "init", scriptPath: init.scriptPath },
  ]);
  try {
    const started = performance.now();
    const url = await mf.ready;
    assert.is(url.hostname, "127.0.0.1");
    console.log(`  workerd (miniflare) ready in ${Math.round(performance.now() - started)} ms at ${url.origin}`);
    // Typed loosely: miniflare's Fetcher type is workerd's, not the DOM's.
    const initWorker = (await mf.getWorker("init")) as unknown as { fetch(url: string, init: { method: string; body: Uint8Array }): Promise<Response> };

    // Before any init(): compiling the kernels from bytes is refused, so the Module path is the one in use.
    const refused = (await (await initWorker.fetch("http://worker/compile-bytes", { method: "POST", body: wasmBytes })).json()) as Record<string, unknown>;
    console.log(`  compiling bytes in workerd: ${String(refused.compile)}`);
    assert.is(refused.importIsModule, true, "import of cntscope/cntscope.wasm must give a WebAssembly.Module");
    assert.is(refused.validates, true);
    assert.match(String(refused.compile), /disallowed by embedder/);
    assert.match(String(refused.init), /^INTERNAL: Could not load cntscope\.wasm .*disallowed by embedder/);

    const expected = nodeReports().bytes;
    let t = performance.now();
    const viaInit = await initWorker.fetch("http://worker/analyze", { method: "POST", body: model });
    const viaInitText = await viaInit.text();
    assert.is(viaInit.status, 200, viaInitText.slice(0, 2000));
    console.log(`  init(wasm) Worker: first report in ${Math.round(performance.now() - t)} ms`);
    assert.ok(viaInitText === expected, "the init(wasm) Worker's report must equal Node's JSON text");

    assert.ok(
      autoKeepsEntry,
      'the bundle lost dist/entry/workerd.js\'s wasm import and setDefaultWasmProvider call: bundlers drop a side-effect-only module of a package marked "sideEffects": false, so package.json must list the entries, "sideEffects": ["./dist/entry/*.js"]',
    );
    t = performance.now();
    const viaAuto = await fetch(new URL("/analyze", url), { method: "POST", body: model });
    const viaAutoText = await viaAuto.text();
    assert.is(viaAuto.status, 200, viaAutoText.slice(0, 2000));
    console.log(`  workerd-entry Worker over ${url.origin}: first report in ${Math.round(performance.now() - t)} ms`);
    assert.ok(viaAutoText === expected, "the workerd-entry Worker's report must equal Node's JSON text");
  } finally {
    await mf.dispose();
  }
});

test.run();
