// The README opens with the bundled model's summary figure; it must be what `cntscope report
// -o x.svg` makes today (scripts/readme-figure.sh regenerates it), and its numbers the model's.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DOMParser } from "@xmldom/xmldom";

const committed = readFileSync("docs/digits-mlp-summary.svg", "utf8");
const expected = JSON.parse(readFileSync("test/fixtures/digits-mlp.expected.json", "utf8"));

test("the README's figure is what cntscope report makes now", () => {
  const out = join(mkdtempSync(join(tmpdir(), "cntscope-figure-")), "f.svg");
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "report", "models/digits-mlp.safetensors", "-o", out, "--quiet"], { encoding: "utf8" });
  assert.is(run.status, 0, run.stderr);
  assert.ok(readFileSync(out, "utf8") === committed, "docs/digits-mlp-summary.svg is out of date: run scripts/readme-figure.sh");
  assert.match(readFileSync("README.md", "utf8").slice(0, 2000), /!\[[^\]]+\]\(docs\/digits-mlp-summary\.svg\)/, "near the top of the README");
});

test("the figure parses and draws the float64 reference's first-layer histogram and fluctuations", () => {
  const doc = new DOMParser({ onError: (level, message) => { throw new Error(`${level}: ${message}`); } }).parseFromString(committed, "image/svg+xml");
  const rects = Array.from(doc.getElementsByTagName("rect"));
  const bars = (title: string) => {
    const panel = Array.from(doc.getElementsByTagName("svg")).find((s) => s.getElementsByTagName("title")[0]?.textContent === title)!;
    assert.ok(panel, title);
    return Array.from(panel.getElementsByTagName("rect")).filter((r) => r.getAttribute("class") === "bar").map((r) => Number(r.getAttribute("data-count")));
  };
  assert.ok(rects.length > 64);
  assert.equal(bars(`${expected.layers[0].name}: link weights`), expected.layers[0].linkWeights.histogram.counts);
  const points = Array.from(doc.getElementsByTagName("circle")).map((c) => Number(c.getAttribute("data-value")));
  points.forEach((v, i) => assert.ok(Math.abs(v - expected.nodeLayers[i].fluctuation) < 1e-9 * Math.abs(v), `fluctuation ${i}`));
  assert.is(points.length, expected.nodeLayers.length);
});

test.run();
