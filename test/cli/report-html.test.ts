// cntscope report and --csv as a user runs them. The numbers in the page and the CSV are checked
// against the float64 reference of the bundled model (test/fixtures/digits-mlp.expected.json,
// from numpy), and the page against what "self-contained" means: no address outside the file.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DOMParser } from "@xmldom/xmldom";

function cntscope(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const model = "models/digits-mlp.safetensors";
const expected = JSON.parse(readFileSync("test/fixtures/digits-mlp.expected.json", "utf8"));
const tmp = mkdtempSync(join(tmpdir(), "cntscope-report-"));
const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

function parseCsv(text: string): string[][] {
  return text.trim().split("\n").map((line) => line.split(","));
}

test("analyze --csv: a row per layer and node layer, numbers whole and equal to the float64 reference", () => {
  const r = cntscope("analyze", model, "--csv");
  assert.is(r.code, 0, r.stderr);
  const [header, ...rows] = parseCsv(r.stdout);
  const col = (name: string) => header.indexOf(name);
  const layers = rows.filter((row) => row[0] === "layer"), nodes = rows.filter((row) => row[0] === "nodeLayer");
  assert.is(layers.length, expected.layers.length);
  assert.is(nodes.length, expected.nodeLayers.length);
  expected.layers.forEach((l: any, i: number) => {
    assert.is(layers[i][col("name")], l.name);
    assert.is(Number(layers[i][col("params_or_nodes")]), l.params);
    for (const k of ["mean", "std", "min", "max"]) assert.ok(close(Number(layers[i][col(k)]), l.linkWeights[k]), `layer ${i} ${k}`);
  });
  expected.nodeLayers.forEach((n: any, i: number) => {
    assert.is(Number(nodes[i][col("params_or_nodes")]), n.size);
    assert.ok(close(Number(nodes[i][col("fluctuation")]), n.fluctuation), `node layer ${i} fluctuation`);
    assert.ok(close(Number(nodes[i][col("mean")]), n.strength.mean), `node layer ${i} mean s`);
    assert.ok(close(Number(nodes[i][col("mean_s_in")]), n.strengthIn.mean), `node layer ${i} mean s_in`);
  });
});

test("info --csv: one row per weighted layer with its parameters", () => {
  const r = cntscope("info", model, "--csv");
  assert.is(r.code, 0, r.stderr);
  const [header, ...rows] = parseCsv(r.stdout);
  assert.equal(header, ["name", "kind", "weight_shape", "dtype", "params"]);
  assert.equal(rows.map((row) => Number(row[4])), expected.layers.map((l: any) => l.params));
});

test("report -o page.html: one self-contained page whose plots and tables hold the reference's numbers", () => {
  const out = join(tmp, "page.html");
  const r = cntscope("report", model, "-o", out);
  assert.is(r.code, 0, r.stderr);
  const html = readFileSync(out, "utf8");
  assert.not.match(html, /(src|href)\s*=\s*["'](https?:|\/\/)|<link\b|@import|url\(/i, "nothing loaded from elsewhere");
  assert.is(readdirSync(tmp).filter((f) => f.includes("partial")).length, 0, "no temporary file left");
  const svgs = html.match(/<svg[\s\S]*?<\/svg>/g)!;
  const parser = new DOMParser({ onError: (level, message) => { throw new Error(`${level}: ${message}`); } });
  const docs = svgs.map((s) => parser.parseFromString(s, "image/svg+xml").documentElement!);
  const barsOf = (title: string) => {
    const doc = docs.find((d) => d.getElementsByTagName("title")[0].textContent === title);
    assert.ok(doc, `a plot titled ${title}`);
    return Array.from(doc!.getElementsByTagName("rect")).filter((r) => r.getAttribute("class") === "bar").map((r) => Number(r.getAttribute("data-count")));
  };
  for (const l of expected.layers) assert.equal(barsOf(`${l.name}: link weights`), l.linkWeights.histogram.counts, `layer ${l.name}`);
  for (const n of expected.nodeLayers) assert.equal(barsOf(`node layer ${n.index} (after ${n.after}, ${n.size} nodes): s`), n.strength.histogram.counts, `node layer ${n.index}`);
  // The node-layer table sorts by whole values: each fluctuation cell's data-sort is the reference's.
  const table = html.slice(html.indexOf('id="nodes-0"'), html.indexOf("</table>", html.indexOf('id="nodes-0"')));
  const rows = table.split("<tr>").slice(2);
  assert.is(rows.length, expected.nodeLayers.length);
  rows.forEach((row, i) => {
    const sorts = [...row.matchAll(/data-sort="([^"]+)"/g)].map((m) => Number(m[1]));
    assert.ok(sorts.some((v) => close(v, expected.nodeLayers[i].fluctuation)), `row ${i} carries fluctuation ${expected.nodeLayers[i].fluctuation}`);
  });
  assert.match(html, /<dt>parameters<\/dt><dd>2,778<\/dd>/);
  assert.match(html, /the strengths include the links of 3 of 3 weighted layers/);
});

test("report of a folder compares its models: an overlay per matched layer, every model in each", () => {
  const dir = join(tmp, "models");
  mkdirSync(dir);
  copyFileSync(model, join(dir, "a.safetensors"));
  copyFileSync(model, join(dir, "b.safetensors"));
  const out = join(tmp, "two.html");
  const r = cntscope("report", dir, "-o", out);
  assert.is(r.code, 0, r.stderr);
  const html = readFileSync(out, "utf8");
  assert.match(html, /id="model-0"[\s\S]*a\.safetensors/);
  assert.match(html, /id="model-1"[\s\S]*b\.safetensors/);
  const overlays = html.match(/<svg[\s\S]*?<\/svg>/g)!.filter((s) => s.includes('class="series"'));
  assert.is(overlays.length, expected.layers.length + expected.nodeLayers.length);
  for (const svg of overlays) assert.is(svg.match(/class="series"/g)!.length, 2);
  // Two copies of one model: every divergence is 0.
  const table = html.slice(html.indexOf('id="compare-linkWeights"'), html.indexOf("</table>", html.indexOf('id="compare-linkWeights"')));
  const js = [...table.matchAll(/<tr><td class="text">[^<]*<\/td><td class="text">[^<]*<\/td><td class="text">[^<]*<\/td><td data-sort="([^"]+)"/g)].map((m) => Number(m[1]));
  assert.is(js.length, expected.layers.length);
  assert.ok(js.every((v) => v === 0), `JS divergences ${js}`);
});

test("report needs -o, and a folder without models is NOT_FOUND", () => {
  const r = cntscope("report", model);
  assert.is(r.code, 2);
  assert.match(r.stderr, /BAD_OPTION: cntscope report needs the output file: -o report\.html/);
  const empty = join(tmp, "empty");
  mkdirSync(empty);
  const e = cntscope("report", empty, "-o", join(tmp, "x.html"));
  assert.is(e.code, 2);
  assert.match(e.stderr, /NOT_FOUND: The folder .* holds no model file/);
  assert.not.ok(existsSync(join(tmp, "x.html")));
});

test.run();
