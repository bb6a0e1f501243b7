// Output sizes and padding of conv layers, checked against the frameworks' formulas worked by hand:
// TF/ONNX "same": out = ceil(H / s), total pad = max((out - 1) s + d (k - 1) + 1 - H, 0), the odd
// pixel at the end (same_upper) or the start (same_lower).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { convGeometry } from "../../src/graph/ops/conv/geometry.js";
import type { LayerInfo } from "../../src/model/types.js";

const conv = (attributes: LayerInfo["attributes"], kind: LayerInfo["kind"] = "conv2d"): LayerInfo => ({ name: "c", kind, attributes });
const axis = (layer: LayerInfo, size: number, k: number) => {
  const g = convGeometry(layer, [size, size], [k, k]).axes[0];
  return [g.padBegin, g.padEnd, g.out];
};

test("same_upper and same_lower split an odd total padding at the end or the start", () => {
  assert.equal(axis(conv({ autoPad: "same_upper", stride: [2, 2] }), 5, 3), [1, 1, 3]);
  assert.equal(axis(conv({ autoPad: "same_upper", stride: [2, 2] }), 6, 3), [0, 1, 3]);
  assert.equal(axis(conv({ autoPad: "same_lower", stride: [2, 2] }), 6, 3), [1, 0, 3]);
  assert.equal(axis(conv({ autoPad: "same_upper" }), 7, 4), [1, 2, 7]);
  assert.equal(axis(conv({ autoPad: "same_lower" }), 7, 4), [2, 1, 7]);
  assert.equal(axis(conv({ autoPad: "same_upper", dilation: [2, 2] }), 8, 3), [2, 2, 8]);
});

test("valid ignores pads; explicit pads are used as given", () => {
  assert.equal(axis(conv({ autoPad: "valid", stride: [2, 2], pads: [3, 3, 3, 3] }), 7, 3), [0, 0, 3]);
  assert.equal(axis(conv({ pads: [1, 0, 2, 0], stride: [1, 1] }), 7, 3), [1, 2, 8]);
});

test("transposed: (H - 1) s - pads + d (k - 1) + output padding + 1; same gives H s", () => {
  assert.equal(axis(conv({ stride: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1] }, "conv2d_transpose"), 4, 3), [1, 1, 8]);
  assert.equal(axis(conv({ stride: [2, 2], autoPad: "same_upper" }, "conv2d_transpose"), 4, 3), [0, 1, 8]);
});

test("1-D layers take 1-D attributes and a trivial height", () => {
  const g = convGeometry(conv({ stride: [2], pads: [1, 2], dilation: [2] }, "conv1d"), [1, 10], [1, 3]);
  assert.equal([g.axes[0].out, g.axes[1].padBegin, g.axes[1].padEnd, g.axes[1].out], [1, 1, 2, 5]); // floor((10 + 3 - 5) / 2) + 1
});

test("bad attributes and empty outputs are errors that name the layer", () => {
  assert.throws(() => convGeometry(conv({ stride: [0, 1] }), [5, 5], [3, 3]), /'c'.*at least 1/);
  assert.throws(() => convGeometry(conv({ pads: [1, 1] }), [5, 5], [3, 3]), /'c'.*pads/);
  assert.throws(() => convGeometry(conv({ autoPad: "bogus" }), [5, 5], [3, 3]), /autoPad/);
  assert.throws(() => convGeometry(conv({}), [2, 2], [3, 3]), (e: Error & { code?: string }) => e.code === "BAD_SHAPE" && /empty output/.test(e.message));
});

test.run();
