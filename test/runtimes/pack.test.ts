/**
 * One install, every runtime (1): the packed tarball, installed into an empty project, works in
 * Node from the package's own names ("cntscope", "cntscope/node"), carries what its exports
 * map names and nothing of the repository's sources, tests or benchmarks, and stays small.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MODEL, ROOT, describe, installPacked, nodeReports, run } from "./packed.js";

// 300 KB until four readers (PyTorch, GGUF, Keras with an HDF5 reader, TF.js graph models) and docs/ joined: 347 KB then.
// 624 KB once the offline app (dist/app, minified: about 130 KB packed), plots, HTML reports,
// populations with their fan-out and the graph templates of this session joined.
// 836 KB once the forward pass joined (issue 20): its kernels grew each of the three wasm copies
// (the module, the threads build, the app's) from about 34 KB to 92 KB, the app's data section, and
// the digits test set with its labels (60 KB) that `npm start` runs the bundled model on.
// 1,100 KB once the CLI shipped as a minified bundle (dist/bin, about 220 KB packed: the library's
// code a second time, in 8 files for an analyze instead of 108, issue 19's start-up; dist/cli left out).
const MAX_PACKED_BYTES = 1100 * 1024;

/** Every file path an exports map names (conditions and subpaths, nested). */
function exportTargets(node: unknown): string[] {
  if (typeof node === "string") return [node.replace(/^\.\//, "")];
  if (node && typeof node === "object") return Object.values(node).flatMap(exportTargets);
  return [];
}

test("the tarball holds dist, the bundled model and the README; no sources, tests, benches or .wat; under 1,100 KB", () => {
  const packed = installPacked();
  const paths = packed.files.map((f) => f.path);
  console.log(`  ${packed.notes.join("; ")}`);
  console.log(`  packed size ${packed.size.toLocaleString("en")} bytes (${(packed.size / 1024).toFixed(1)} KiB), ${paths.length} files, ${packed.unpackedSize.toLocaleString("en")} bytes unpacked`);

  const forbidden = paths.filter(
    (p) => /^(src|test|bench|assembly|scripts|schemas|\.ci)\//.test(p) || /\.wat$/.test(p) || /fixture/i.test(p) || (/\.ts$/.test(p) && !/\.d\.ts$/.test(p)),
  );
  assert.equal(forbidden, [], `the tarball must not carry repository-only files: ${forbidden.join(", ")}`);

  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: unknown; bin: Record<string, string> };
  const wanted = [...exportTargets(pkg.exports), ...Object.values(pkg.bin).map((p) => p.replace(/^\.\//, "")), "dist/cntscope.wasm", "dist/cntscope-threads.wasm", "dist/node/band-worker.js", "dist/app/index.html", "dist/app/page.js", "dist/app/worker.js", "dist/app/cntscope.wasm", "models/digits-mlp.safetensors", "README.md"];
  const missing = [...new Set(wanted)].filter((p) => !paths.includes(p));
  assert.equal(missing, [], `files the package names are missing from the tarball: ${missing.join(", ")}`);

  assert.ok(packed.size < MAX_PACKED_BYTES, `packed size ${packed.size} bytes is over ${MAX_PACKED_BYTES}`);
});

test('Node: import { analyze } from "cntscope" and { analyzeFile } from "cntscope/node" report the bundled model', () => {
  const out = nodeReports();
  const fromFile = JSON.parse(out.file) as { source: { format: string; name: string }; layers: { kind: string }[]; nodeLayers: unknown[] };
  const fromBytes = JSON.parse(out.bytes) as typeof fromFile;
  console.log(`  ${out.runtime}: "cntscope" resolved to ${out.entry}`);
  assert.is(out.entry, "dist/entry/node-core.js", 'Node must resolve "cntscope" through the "node" condition');
  for (const report of [fromFile, fromBytes]) {
    assert.is(report.source.format, "safetensors");
    assert.is(report.layers.filter((l) => l.kind === "dense").length, 3, "3 dense layers (64-32-16-10)");
    assert.is(report.nodeLayers.length, 4, "4 node layers: the input and one after each dense layer");
  }
  assert.is(fromFile.source.name, "digits-mlp.safetensors");
  // The two entries share one kernel module: everything but the source's name agrees.
  assert.equal({ ...fromBytes, source: undefined }, { ...fromFile, source: undefined });
});

/** Script text that writes `name`: one f32 safetensors tensor of 4352 x 1024 (17 MiB, over BAND_POOL_BYTES), value i = `value` (an expression in i). */
function bandTensorScript(name: string, value: string): string {
  return `
    import { writeFileSync } from "node:fs";
    const rows = 4352, cols = 1024, values = new Float32Array(rows * cols);
    for (let i = 0; i < values.length; i++) values[i] = ${value};
    let json = JSON.stringify({ "0.weight": { dtype: "F32", shape: [rows, cols], data_offsets: [0, values.byteLength] } });
    while (json.length % 8) json += " ";
    const head = new TextEncoder().encode(json), file = new Uint8Array(8 + head.length + values.byteLength);
    new DataView(file.buffer).setBigUint64(0, BigInt(head.length), true);
    file.set(head, 8);
    file.set(new Uint8Array(values.buffer), 8 + head.length);
    writeFileSync(${JSON.stringify(name)}, file);`;
}

test("Node: analyzeFile with workers splits a 17 MiB tensor over two threads of the packed threads build; the report is the one-thread report", () => {
  const { app } = installPacked();
  const script = `
    import { analyzeFile, toJSON } from "cntscope/node";
    ${bandTensorScript("big.safetensors", "Math.sin(i * 0.37) * 0.1")}
    const one = toJSON(await analyzeFile("big.safetensors", { perNode: true }));
    const two = toJSON(await analyzeFile("big.safetensors", { perNode: true, workers: 2 }));
    console.log(JSON.stringify({ same: one === two, bytes: file.length }));`;
  writeFileSync(join(app, "bands.mjs"), script);
  const r = run(process.execPath, ["bands.mjs"], { cwd: app });
  assert.is(r.status, 0, describe("node bands.mjs", r));
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as { same: boolean; bytes: number };
  assert.ok(out.bytes > 16 << 20, "the tensor is over BAND_POOL_BYTES");
  assert.is(out.same, true, "two threads give the one-thread report");
});

test("the installed bin: `npx cntscope analyze` reports the bundled model as the library does, and its worker threads start from the bundle", () => {
  const { app } = installPacked();
  const version = run("npx", ["--no-install", "cntscope", "--version"], { cwd: app });
  assert.is(version.status, 0, describe("npx cntscope --version", version));
  assert.is(version.stdout.trim(), JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  const cli = run("npx", ["--no-install", "cntscope", "analyze", MODEL, "--json"], { cwd: app });
  assert.is(cli.status, 0, describe("npx cntscope analyze", cli));
  // The library's report of the same file (smoke.mjs, through "cntscope/node"): the bin's is the same.
  assert.is(cli.stdout.trim(), nodeReports().file);
  // A 17 MiB tensor with --workers 2 runs on the band pool: dist/bin/band-worker.js and the wasm
  // one folder up must be found from the installed bundle. The band pool's numbers are checked
  // against a float64 reference in test/node/band-pool.test.ts; here two threads must give the
  // one-thread report, and the count of link weights is the tensor's 4352 x 1024.
  writeFileSync(join(app, "cli-bands.mjs"), bandTensorScript("cli-bands.safetensors", "Math.cos(i * 0.11) * 0.2"));
  const made = run(process.execPath, ["cli-bands.mjs"], { cwd: app });
  assert.is(made.status, 0, describe("node cli-bands.mjs", made));
  const one = run("npx", ["--no-install", "cntscope", "analyze", "cli-bands.safetensors", "--json", "--workers", "1"], { cwd: app });
  const two = run("npx", ["--no-install", "cntscope", "analyze", "cli-bands.safetensors", "--json", "--workers", "2"], { cwd: app });
  assert.is(one.status, 0, describe("npx cntscope analyze --workers 1", one));
  assert.is(two.status, 0, describe("npx cntscope analyze --workers 2", two));
  assert.is(two.stdout, one.stdout, "two threads give the one-thread report");
  assert.is((JSON.parse(one.stdout) as { layers: { linkWeights: { count: number } }[] }).layers[0].linkWeights.count, 4352 * 1024);
});

test('CommonJS: require("cntscope") either works (Node\'s require of ES modules) or fails with ERR_REQUIRE_ESM', () => {
  const { app } = installPacked();
  const script = `
    let result;
    try {
      const { analyze, toJSON } = require("cntscope");
      const { readFileSync } = require("node:fs");
      analyze(readFileSync(${JSON.stringify("node_modules/cntscope/models/digits-mlp.safetensors")})).then(
        (report) => console.log(JSON.stringify({ required: true, nodeLayers: report.nodeLayers.length })),
        (error) => { console.log(JSON.stringify({ required: true, error: String(error) })); process.exitCode = 1; });
    } catch (error) {
      console.log(JSON.stringify({ required: false, code: error.code, message: error.message.split("\\n")[0] }));
    }`;
  const r = run(process.execPath, ["--no-warnings", "-e", script], { cwd: app });
  assert.is(r.status, 0, describe("require(\"cntscope\")", r));
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as { required: boolean; code?: string; nodeLayers?: number };
  console.log(`  Node ${process.versions.node}: ${out.required ? "require() of the ES module works" : `require() fails with ${out.code}`}`);
  if (out.required) assert.is(out.nodeLayers, 4);
  else assert.is(out.code, "ERR_REQUIRE_ESM");
});

test("TypeScript: a strict NodeNext consumer type-checks against the packed .d.ts files", () => {
  const { app } = installPacked();
  writeFileSync(join(app, "consumer.ts"), `
import { analyze, init, CntError, toJSON, type Report, type AnalyzeOptions, type Distribution } from "cntscope";
import { analyzeFile, fileSource } from "cntscope/node";
const options: AnalyzeOptions = { bins: 32, bias: "ignore", gates: "separate", perNode: true, layout: { inputShape: [1, 28, 28] } };
export async function main(): Promise<number> {
  await init();
  const report: Report = await analyzeFile("model.safetensors", { ...options, workers: 2 });
  const first: Distribution | null = report.layers[0].linkWeights;
  const strengths: Float64Array | undefined = report.nodeLayers[0].perNode?.s;
  try { await analyze(await fileSource("x")); } catch (e) { if (e instanceof CntError && e.code === "TRUNCATED") return 2; }
  return toJSON(report).length + (first?.count ?? 0) + (strengths?.length ?? 0);
}
`);
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", noEmit: true, skipLibCheck: false, types: [] }, files: ["consumer.ts"] }));
  const r = run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: app });
  assert.is(r.status, 0, describe("tsc on a consumer of the packed package", r));
});

test.run();
