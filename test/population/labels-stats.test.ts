// The labels table, the bins, the seeded generator and the statistics, on cases worked by hand
// (numbers in the comments) or by their textbook definitions.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CntError } from "../../src/errors.js";
import { binIndex, parseBinSpec, parseLabels, rangeLabel } from "../../src/population/labels.js";
import { addFine, mergeMomentsOf } from "../../src/population/partial.js";
import { mulberry32 } from "../../src/population/prng.js";
import { cohenD, looNearestCentroid, median, ranks, sd, spearman } from "../../src/population/stats.js";

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as CntError).code;
  }
  return undefined;
}

test("labels: RFC 4180 quotes, CRLF, a BOM; the file column; errors name the table", () => {
  const t = parseLabels('\uFEFFarch,file,accuracy\r\n"mlp, tanh",a.safetensors,0.9\r\n"say ""hi""",b.onnx,.5\r\n', "labels.csv");
  assert.equal(t.columns, ["arch", "accuracy"]);
  assert.equal(t.rows.get("a.safetensors"), { arch: "mlp, tanh", accuracy: "0.9" });
  assert.equal(t.rows.get("b.onnx"), { arch: 'say "hi"', accuracy: ".5" });
  assert.is(code(() => parseLabels("name,accuracy\nx,1\n", "l.csv")), "BAD_OPTION");
  assert.is(code(() => parseLabels("file,a\nx,1\nx,2\n", "l.csv")), "BAD_OPTION");
  assert.is(code(() => parseLabels("file,a\nx\n", "l.csv")), "BAD_OPTION");
  assert.is(code(() => parseLabels('file,a\n"x,1\n', "l.csv")), "BAD_OPTION");
});

test("bins: numpy.histogram's rule, the last bin closed; range labels", () => {
  const edges = [0, 0.25, 0.7, 0.9, 0.975, 1];
  assert.equal([0, 0.25, 0.69, 0.7, 0.975, 1, 1.01, -0.1].map((x) => binIndex(x, edges)), [0, 1, 1, 2, 4, 4, -1, -1]);
  assert.equal(parseBinSpec("accuracy:0,.25,.7,.9,.975,1"), { column: "accuracy", edges });
  assert.is(code(() => parseBinSpec("accuracy:1,0")), "BAD_OPTION");
  assert.is(code(() => parseBinSpec("0,1")), "BAD_OPTION");
  assert.is(rangeLabel(0.7, 0.9), "0.70–0.90");
  assert.is(rangeLabel(0.9, 0.975), "0.900–0.975");
  assert.is(rangeLabel(0, 1), "0.00–1.00");
});

test("mulberry32: the published generator's first draws for seed 0 and 1", () => {
  // From the usual JS mulberry32 (a |= 0; a = a + 0x6D2B79F5 | 0; ...), written out independently here.
  const ref = (seed: number) => {
    let a = seed;
    return () => {
      a |= 0;
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  };
  for (const seed of [0, 1, 7, 0x5bd1e995]) {
    const [a, b] = [mulberry32(seed), ref(seed)];
    for (let i = 0; i < 50; i++) assert.is(a(), b());
  }
});

test("statistics by hand", () => {
  assert.equal(ranks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
  assert.is(median([3, 1, 2]), 2);
  assert.is(median([4, 1, 2, 3]), 2.5);
  assert.is(sd([1]), null);
  assert.ok(Math.abs(sd([1, 2, 3, 4])! - Math.sqrt(5 / 3)) < 1e-15);
  assert.is(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.is(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // d = (mean b - mean a) / pooled sd: a = 1,2,3 (var 1), b = 3,4,5 (var 1): d = 2.
  assert.is(cohenD([1, 2, 3], [3, 4, 5]), 2);
  // LOO: two tight groups, each point nearest its own group's other points.
  const loo = looNearestCentroid([[0], [0.1], [5], [5.2], [0.05]], [0, 0, 1, 1, 0], 2);
  assert.equal(loo.confusion, [[3, 0], [0, 2]]);
  assert.is(loo.accuracy, 1);
});

test("merge rules: fine histograms add exactly, moments by Chan's formula equal the pooled sample", () => {
  assert.equal(addFine([{ buckets: [1, 5], counts: [2, 3] }, { buckets: [0, 5, 9], counts: [1, 1, 4] }]), { buckets: [0, 1, 5, 9], counts: [1, 2, 4, 4] });
  const a = [1, 2, 3, 10], b = [-4, 0.5];
  const d = (v: number[]) => {
    const m = v.reduce((s, x) => s + x, 0) / v.length;
    return { count: v.length, mean: m, std: Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length), min: Math.min(...v), max: Math.max(...v), nan: 1, posInf: 0, negInf: 2 };
  };
  const all = d([...a, ...b]);
  const merged = mergeMomentsOf([d(a), d(b)]);
  assert.is(merged.count, 6);
  assert.ok(Math.abs(merged.mean! - all.mean) < 1e-15 && Math.abs(merged.std! - all.std) < 1e-14);
  assert.equal([merged.min, merged.max, merged.nan, merged.negInf], [-4, 10, 2, 4]);
});

test.run();
