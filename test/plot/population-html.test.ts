// The population page (report.html of `population -o out/`) draws the numbers of the test
// population's independent numpy/scipy reference (test/fixtures/population/expected.json):
// the Jensen-Shannon matrices between groups and the groups' mean fluctuation by depth.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DOMParser, type Element as XmlElement } from "@xmldom/xmldom";
import { populationHtml } from "../../src/html/population-html.js";
import { populationPartials } from "../../src/node/population-files.js";
import { parseLabels } from "../../src/population/labels.js";
import { population } from "../../src/population/population.js";

const DIR = "test/fixtures/population";
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, "utf8"));
let html = "";
let svgs: XmlElement[] = [];

test.before(async () => {
  const labels = parseLabels(readFileSync(`${DIR}/labels.csv`, "utf8"), "labels.csv");
  const result = population(await populationPartials([DIR], { labels }), { bin: { column: "accuracy", edges: [0, 0.25, 0.7, 0.9, 0.975, 1] } });
  html = populationHtml(result);
  const parser = new DOMParser({ onError: (level, message) => { throw new Error(`${level}: ${message}`); } });
  svgs = html.match(/<svg[\s\S]*?<\/svg>/g)!.map((s) => parser.parseFromString(s, "image/svg+xml").documentElement!);
});

const titled = (title: string) => {
  const svg = svgs.find((s) => s.getElementsByTagName("title")[0].textContent === title);
  assert.ok(svg, `a plot titled ${title}`);
  return svg!;
};
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

test("each layer's Jensen-Shannon heatmap holds the reference matrix, labelled by the bins' ranges", () => {
  for (const d of expected.divergences.filter((x: { metric: string }) => x.metric === "linkWeights")) {
    const svg = titled(`${d.layer}: Jensen-Shannon between groups`);
    const cells = Array.from(svg.getElementsByTagName("rect")).filter((r) => r.getAttribute("class") === "cell");
    const want = (d.matrices.jensenShannon as (number | null)[][]).flat();
    assert.is(cells.length, want.length);
    cells.forEach((c, i) => assert.ok(close(Number(c.getAttribute("data-value")), want[i]!), `layer ${d.layer} cell ${i}`));
    const texts = Array.from(svg.getElementsByTagName("text")).map((t) => t.textContent);
    for (const range of ["0.00–0.25", "0.975–1.000"]) assert.ok(texts.includes(range), range);
  }
});

test("group means of fluctuation by depth are the reference's, one line per group", () => {
  const svg = titled("Group means of fluctuation");
  const points = Array.from(svg.getElementsByTagName("circle")).map((c) => Number(c.getAttribute("data-value")));
  const want = expected.groupStats.filter((s: { metric: string }) => s.metric === "fluctuation");
  assert.is(points.length, want.length);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  sorted(points).forEach((p, i) => assert.ok(close(p, sorted(want.map((s: { mean: number }) => s.mean))[i]), `point ${i}`));
  assert.match(html, /<h2>How well each metric separates the groups<\/h2>/);
  assert.not.match(html, /(src|href)\s*=\s*["'](https?:|\/\/)|<link\b/i);
});

test.run();
