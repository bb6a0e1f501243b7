// The README's runnable examples, run as a user would: the Node example through the package's
// own name (a package can import itself by name), against the built dist/.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";

const readme = readFileSync("README.md", "utf8");
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

test("the README's Node example runs and prints every node layer's fluctuation and a node's strengths", () => {
  const example = blocks.find((b) => b.includes('from "cntscope/node"'));
  assert.ok(example, "the README has a Node example");
  const file = "readme-example.test-tmp.mjs";
  writeFileSync(file, example!);
  try {
    const run = spawnSync(process.execPath, [file], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } });
    assert.is(run.status, 0, run.stderr);
    assert.ok(/\[\s*[\d.]+,\s*[\d.]+,\s*[\d.]+,\s*[\d.]+\s*\]/.test(run.stdout), `four fluctuations in: ${run.stdout.slice(0, 300)}`);
    assert.match(run.stdout, /Float64Array\(32\)/, "the 32 strengths of node layer 1");
  } finally {
    rmSync(file, { force: true });
  }
});

test("the README's convertFile / jsonPieces example writes a .cnt and a whole JSON report of it", () => {
  const example = blocks.find((b) => b.includes("convertFile(") && b.includes("jsonPieces("));
  assert.ok(example, "the README has the example");
  const file = "readme-example-convert.test-tmp.mjs";
  writeFileSync(file, example!);
  try {
    const run = spawnSync(process.execPath, [file], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } });
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stdout, /\[\s*64,\s*32,\s*16,\s*10\s*\]/, "the node layers of the 64-32-16-10 MLP");
    const report = JSON.parse(readFileSync("digits-report.json", "utf8"));
    assert.is(report.source.format, "cnt");
    assert.is(report.nodeLayers[1].perNode.s.length, 32);
  } finally {
    for (const f of [file, "digits.cnt", "digits-report.json"]) rmSync(f, { force: true });
  }
});

test("the README's report example writes a self-contained page and a histogram SVG", () => {
  const example = blocks.find((b) => b.includes("reportFiles(") && b.includes("plotReport("));
  assert.ok(example, "the README has the example");
  const file = "readme-example-report.test-tmp.mjs";
  writeFileSync(file, example!);
  try {
    const run = spawnSync(process.execPath, [file], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } });
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stdout, /layers.*nodeLayers.*fluctuation.*cv.*strip/s);
    const html = readFileSync("digits-report.html", "utf8");
    assert.match(html, /^<!doctype html>/);
    assert.is(html.match(/<svg /g)!.length, 3 + 3 + 3 + 4, "strip, fluctuation, cv; three weight and three bias histograms; four strength histograms");
    const svg = readFileSync("digits-layer0.svg", "utf8");
    assert.is(svg.match(/class="bar"/g)!.length, 64, "one bar per bin");
  } finally {
    for (const f of [file, "digits-report.html", "digits-layer0.svg"]) rmSync(f, { force: true });
  }
});

test("the README's layout example is valid JSON that the layout reader takes", () => {
  const json = /```json\n([\s\S]*?)```/.exec(readme)![1];
  const layout = JSON.parse(json);
  assert.equal(layout.inputShape, [1, 28, 28]);
  assert.ok(layout.layers.pool1.insertAfter === "conv1");
});

test("the README's residual block: the CLI prints the node layers the README shows", () => {
  const block = /\$ npx cntscope analyze test\/fixtures\/graph\/onnx\/res-block\.onnx\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "the README shows the residual block's node layers");
  const run = spawnSync(process.execPath, ["dist/bin/cntscope.js", "analyze", "test/fixtures/graph/onnx/res-block.onnx", "--quiet"], { encoding: "utf8" });
  assert.is(run.status, 0, run.stderr);
  for (const line of block![1].trim().split("\n")) assert.ok(run.stdout.includes(line), `the CLI prints: ${line}`);
});

test.run();
