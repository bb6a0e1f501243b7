import * as assert from "uvu/assert";
import type { Distribution, Report } from "../../src/report/types.js";
import { assertAllClose, assertClose } from "./close.js";

/** The expected-report JSON written by the float64 reference scripts in test/fixtures. */
export interface ExpectedReport {
  layers: { name: string; kind: string; shape: number[]; params: number; linkWeights: ExpectedDist; bias: ExpectedDist | null }[];
  nodeLayers: { index: number; size: number; after?: string; strength: ExpectedDist; strengthIn: ExpectedDist; strengthOut: ExpectedDist; fluctuation: number; cv: number | null; perNode: { s: number[]; sIn: number[]; sOut: number[] } }[];
}
type ExpectedDist = Omit<Distribution, "histogram"> & { histogram: { edges: number[] | null; counts: number[] } };

/** Compare a report with a float64 reference: counts exactly, real numbers to `rel`. */
export function assertMatchesExpected(report: Report, expected: ExpectedReport, rel: number): void {
  assert.is(report.layers.length, expected.layers.length, "layer count");
  expected.layers.forEach((e, i) => {
    const l = report.layers[i];
    assert.is(l.name, e.name, `layer ${i} name`);
    assert.is(l.kind, e.kind, `layer ${i} kind`);
    assert.equal(l.shape, e.shape, `layer ${e.name} shape`);
    assert.is(l.params, e.params, `layer ${e.name} params`);
    assertDistribution(l.linkWeights, e.linkWeights, rel, `${e.name} linkWeights`);
    if (e.bias === null) assert.is(l.bias, null, `${e.name} bias`);
    else assertDistribution(l.bias, e.bias, rel, `${e.name} bias`);
  });
  assert.is(report.nodeLayers.length, expected.nodeLayers.length, "node layer count");
  expected.nodeLayers.forEach((e, i) => {
    const n = report.nodeLayers[i];
    assert.is(n.size, e.size, `node layer ${i} size`);
    if (e.after !== undefined) assert.is(n.after, e.after, `node layer ${i} after`);
    assertDistribution(n.strength, e.strength, rel, `node layer ${i} strength`);
    assertDistribution(n.strengthIn, e.strengthIn, rel, `node layer ${i} strengthIn`);
    assertDistribution(n.strengthOut, e.strengthOut, rel, `node layer ${i} strengthOut`);
    assertClose(n.fluctuation, e.fluctuation, rel, `node layer ${i} fluctuation`);
    assertClose(n.cv, e.cv, rel, `node layer ${i} cv`);
    if (n.perNode) {
      assertAllClose(n.perNode.s, e.perNode.s, rel, `node layer ${i} s`);
      assertAllClose(n.perNode.sIn, e.perNode.sIn, rel, `node layer ${i} sIn`);
      assertAllClose(n.perNode.sOut, e.perNode.sOut, rel, `node layer ${i} sOut`);
    }
  });
}

export function assertDistribution(actual: Distribution | null, expected: ExpectedDist, rel: number, what: string): void {
  assert.ok(actual, `${what}: missing`);
  assert.is(actual!.count, expected.count, `${what}: count`);
  assert.is(actual!.nan, expected.nan, `${what}: nan`);
  assert.is(actual!.posInf, expected.posInf, `${what}: posInf`);
  assert.is(actual!.negInf, expected.negInf, `${what}: negInf`);
  assertClose(actual!.mean, expected.mean, rel, `${what}: mean`);
  assertClose(actual!.std, expected.std, rel, `${what}: std`);
  assertClose(actual!.min, expected.min, rel, `${what}: min`);
  assertClose(actual!.max, expected.max, rel, `${what}: max`);
  assert.equal(actual!.histogram.counts, expected.histogram.counts, `${what}: histogram counts`);
  if (expected.histogram.edges === null) assert.is(actual!.histogram.edges, null, `${what}: edges`);
  else assertAllClose(actual!.histogram.edges!, expected.histogram.edges, 1e-12, `${what}: edges`);
}
