import * as assert from "uvu/assert";
import type { Report } from "../../src/report/types.js";
import { assertAllClose, assertClose, maxRelativeError } from "./close.js";

interface Stats { count: number; mean: number; std: number; min: number; max: number }

/** What shared/vectors/vectors.json expects of a case (float64, from the spec's definitions). */
export interface VectorExpectation {
  layers: Stats[];
  nodeLayers: (Stats & { fluctuation: number; strength: number[] })[];
}

/**
 * Compare a report with a vector case to `rel`: every layer's link-weight stats, every node
 * layer's strength stats, fluctuation and per-node strengths. Returns the worst relative error
 * of a node strength, which the tests state.
 */
export function assertVectorCase(report: Report, expected: VectorExpectation, name: string, rel = 1e-9): number {
  expected.layers.forEach((e, i) => {
    const d = report.layers[i].linkWeights!;
    assert.is(d.count, e.count);
    for (const k of ["mean", "std", "min", "max"] as const) assertClose(d[k], e[k], rel, `${name} layer ${i} ${k}`);
  });
  assert.is(report.nodeLayers.length, expected.nodeLayers.length, report.notes.join("; "));
  let worst = 0;
  expected.nodeLayers.forEach((e, i) => {
    const n = report.nodeLayers[i];
    assert.is(n.size, e.count);
    for (const k of ["mean", "std", "min", "max"] as const) assertClose(n.strength[k], e[k], rel, `${name} node layer ${i} ${k}`);
    assertClose(n.fluctuation, e.fluctuation, rel, `${name} node layer ${i} fluctuation`);
    assertAllClose(n.perNode!.s, e.strength, rel, `${name} node layer ${i} s`);
    worst = Math.max(worst, maxRelativeError(n.perNode!.s, e.strength));
  });
  return worst;
}
