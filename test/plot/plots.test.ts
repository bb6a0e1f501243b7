// SVG plots: well-formed XML (a strict parser), accessible (role, title, desc), and drawing
// exactly the numbers they are given: one bar per bin with its count, bar heights in proportion,
// densities with equal areas, one heatmap cell per entry.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DOMParser, type Element as XmlElement } from "@xmldom/xmldom";
import { analyzeFile } from "../../src/node/index.js";
import { plotByDepth, plotGraphStrip, plotHeatmap, plotHistogram, plotOverlay, plotReport } from "../../src/index.js";

function parse(svg: string): XmlElement {
  const doc = new DOMParser({ onError: (level, message) => { throw new Error(`${level}: ${message}`); } }).parseFromString(svg, "image/svg+xml");
  const root = doc.documentElement!;
  assert.is(root.tagName, "svg");
  assert.is(root.getAttribute("role"), "img");
  const [title, desc] = ["title", "desc"].map((t) => root.getElementsByTagName(t)[0]);
  assert.ok(title?.textContent && desc?.textContent, "a title and a description");
  assert.is(root.getAttribute("aria-labelledby"), `${title.getAttribute("id")} ${desc.getAttribute("id")}`);
  return root;
}
function all(root: XmlElement, tag: string, cls?: string): XmlElement[] {
  return Array.from(root.getElementsByTagName(tag)).filter((e) => cls === undefined || e.getAttribute("class") === cls) as XmlElement[];
}
const num = (e: XmlElement, a: string) => Number(e.getAttribute(a));

test("a histogram has one bar per bin, each with its count and a height in proportion to it", () => {
  const counts = [3, 0, 12, 7, 1, 0, 5];
  const edges = [-1, -0.5, 0, 0.25, 0.5, 1, 1.5, 2];
  const root = parse(plotHistogram({ edges, counts }, { title: "w", quantity: "link weight" }));
  const bars = all(root, "rect", "bar");
  assert.is(bars.length, counts.length);
  assert.equal(bars.map((b) => num(b, "data-count")), counts);
  const unit = num(bars[2], "height") / 12;
  bars.forEach((b, i) => assert.ok(Math.abs(num(b, "height") - counts[i] * unit) < 0.02, `bar ${i} height`));
  // Bars sit in bin order, with widths in proportion to the bins' widths.
  const xs = bars.map((b) => num(b, "x"));
  assert.equal(xs, [...xs].sort((a, b) => a - b));
  const perUnit = (xs[1] - xs[0]) / 0.5;
  edges.slice(0, -1).forEach((e, i) => assert.ok(Math.abs(xs[i] - xs[0] - (e - edges[0]) * perUnit) < 0.02, `bar ${i} x`));
  assert.ok(/\[1\.5, 2\]: 5/.test(bars[6].getElementsByTagName("title")[0].textContent!), "the last bin is closed and tells its count");
  assert.ok(/x axis|link weight/.test(all(root, "text").map((t) => t.textContent).join(" ")), "the axis names its quantity");
});

test("names with markup characters are escaped, and a plot is the same bytes each time", () => {
  const name = `a<b>&"c'`;
  const svg = plotHistogram({ edges: [0, 1], counts: [2] }, { title: name, quantity: "q" });
  const root = parse(svg);
  assert.is(root.getElementsByTagName("title")[0].textContent, name);
  assert.is(plotHistogram({ edges: [0, 1], counts: [2] }, { title: name, quantity: "q" }), svg);
  const other = parse(plotHistogram({ edges: [0, 1], counts: [3] }, { title: name, quantity: "q" }));
  assert.is.not(other.getElementsByTagName("title")[0].getAttribute("id"), root.getElementsByTagName("title")[0].getAttribute("id"));
});

test("an empty distribution says so instead of drawing bars", () => {
  const root = parse(plotHistogram({ edges: null, counts: [0, 0, 0] }, { title: "empty", quantity: "q" }));
  assert.is(all(root, "rect", "bar").length, 0);
  assert.ok(all(root, "text").some((t) => /No finite values/.test(t.textContent!)));
});

test("overlaid densities each enclose the same area, coloured from green (first) to red (last)", () => {
  const edges = [0, 1, 2, 3, 4];
  const series = [
    { label: "low", edges, counts: [10, 30, 40, 20] },
    { label: "mid", edges: edges.map((e) => e * 0.5), counts: [1, 1, 1, 97] },
    { label: "high", edges, counts: [500, 0, 0, 500] },
  ];
  const root = parse(plotOverlay(series, { title: "o", quantity: "link weight" }));
  const paths = all(root, "path", "series");
  assert.equal(paths.map((p) => p.getAttribute("data-label")), ["low", "mid", "high"]);
  const areas = paths.map((p) => {
    // M x0 y0, then V y H x steps: the area between the outline and the baseline y0.
    const tokens = p.getAttribute("d")!.match(/[MVH]|-?[\d.]+/g)!;
    let x = Number(tokens[1]), y = Number(tokens[2]);
    const base = y;
    let area = 0;
    for (let i = 3; i < tokens.length; i += 2) {
      const v = Number(tokens[i + 1]);
      if (tokens[i] === "V") y = v;
      else { area += (v - x) * (base - y); x = v; }
    }
    return area;
  });
  areas.forEach((a) => assert.ok(Math.abs(a / areas[0] - 1) < 0.01, `areas ${areas}`));
  const [first, last] = [paths[0].getAttribute("stroke")!, paths[2].getAttribute("stroke")!];
  const rgb = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  assert.ok(rgb(first)[1] > rgb(first)[0], `first series is green: ${first}`);
  assert.ok(rgb(last)[0] > rgb(last)[1], `last series is red: ${last}`);
});

test("a heatmap has one cell per entry with its value, labelled by the given ranges", () => {
  const m = [[0, 0.25, 1.5], [0.25, 0, null], [1.5, 0.75, 0]];
  const labels = ["0.00–0.25", "0.25–0.70", "0.70–0.90"];
  const root = parse(plotHeatmap(m, labels, { title: "JS", quantity: "Jensen-Shannon divergence (bits)" }));
  const cells = all(root, "rect", "cell");
  assert.is(cells.length, 9);
  assert.equal(cells.map((c) => (c.hasAttribute("data-value") ? num(c, "data-value") : null)), m.flat());
  const texts = all(root, "text").map((t) => t.textContent);
  for (const l of labels) assert.is(texts.filter((t) => t === l).length, 2, `row and column label ${l}`);
  // The largest value is the darkest cell.
  const lum = (c: XmlElement) => { const h = c.getAttribute("fill")!; return [1, 3, 5].reduce((s, i) => s + parseInt(h.slice(i, i + 2), 16), 0); };
  assert.is(cells.filter((c) => c.hasAttribute("data-value")).sort((a, b) => lum(a) - lum(b))[0].getAttribute("data-value"), "1.5");
});

test("by-depth plots mark every defined value; the strip has a box per node layer", () => {
  const root = parse(plotByDepth([{ label: "net", values: [1.2, null, 3.4, 2] }], { title: "fluctuation", quantity: "fluctuation (std of s)" }));
  assert.equal(all(root, "circle", "point").map((c) => num(c, "data-value")), [1.2, 3.4, 2]);
  const strip = parse(plotGraphStrip([{ after: "input", size: 64, fluctuation: 1 }, { after: "fc1", size: 32, fluctuation: null }]));
  assert.equal(all(strip, "rect", "node-layer").map((r) => num(r, "data-size")), [64, 32]);
});

test("plotReport draws every layer's and node layer's histogram from the report's counts", async () => {
  const report = await analyzeFile("models/digits-mlp.safetensors");
  const plots = plotReport(report, { inOut: true });
  assert.is(plots.layers.length, report.layers.length);
  report.layers.forEach((l, i) => {
    const bars = all(parse(plots.layers[i].linkWeights!), "rect", "bar");
    assert.equal(bars.map((b) => num(b, "data-count")), l.linkWeights!.histogram.counts);
    if (l.bias) assert.equal(all(parse(plots.layers[i].bias!), "rect", "bar").map((b) => num(b, "data-count")), l.bias.histogram.counts);
  });
  report.nodeLayers.forEach((n, i) => {
    for (const key of ["strength", "strengthIn", "strengthOut"] as const) {
      assert.equal(all(parse(plots.nodeLayers[i][key]!), "rect", "bar").map((b) => num(b, "data-count")), n[key].histogram.counts);
    }
  });
  assert.equal(all(parse(plots.fluctuation), "circle", "point").map((c) => num(c, "data-value")), report.nodeLayers.map((n) => n.fluctuation));
  assert.is(all(parse(plots.strip), "rect", "node-layer").length, report.nodeLayers.length);
  assert.is(plots.neurons, undefined, "no data, no z and a plots");
});

test("with data metrics: each measured node layer's z and a histograms, and their std by depth (none for the input layer)", async () => {
  const layout = { layers: { "0": { activation: "relu" }, "2": { activation: "relu" }, "4": { activation: "linear" } } };
  const report = await analyzeFile("models/digits-mlp.safetensors", { layout, inputs: "models/digits-test-inputs.npy" });
  const plots = plotReport(report);
  const measured = report.nodeLayers.filter((n) => n.neuronStrength);
  assert.is(measured.length, 3);
  assert.equal(plots.neurons!.map((n) => n.index), measured.map((n) => n.index));
  measured.forEach((n, i) => {
    assert.equal(all(parse(plots.neurons![i].strength), "rect", "bar").map((b) => num(b, "data-count")), n.neuronStrength!.histogram.counts);
    assert.equal(all(parse(plots.neurons![i].activation), "rect", "bar").map((b) => num(b, "data-count")), n.neuronActivation!.histogram.counts);
  });
  // Two series (std of z, std of a), a point per measured layer each.
  const points = all(parse(plots.neuronStd!), "circle", "point").map((c) => num(c, "data-value"));
  assert.equal(points.sort(), [...measured.map((n) => n.neuronStrength!.std), ...measured.map((n) => n.neuronActivation!.std)].sort());
});

test.run();
