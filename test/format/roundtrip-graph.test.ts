// The graph fields conv and recurrent layers need survive a .cnt round trip.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { openCnt } from "../../src/format/cnt.js";
import { encodeCntHeader } from "../../src/format/cnt-write.js";
import type { LayerInfo } from "../../src/model/types.js";
import { memorySource } from "../helpers/memory-source.js";
import { limits } from "./fixtures.js";

const layers: LayerInfo[] = [
  { name: "conv", kind: "conv2d", weight: "conv.w", weightLayout: "hwio", attributes: { stride: [2, 1], pads: [1, 0, 1, 0], dilation: [1, 1], groups: 1, autoPad: "notset" } },
  { name: "up", kind: "conv2d_transpose", weight: "up.w", weightLayout: "iohw" },
  { name: "pool", kind: "none", attributes: { op: "pool", kernel: [2, 2], stride: [2, 2] } },
  { name: "lstm", kind: "lstm", weight: "lstm.wi", recurrentWeight: "lstm.wh", bias: "lstm.bi", recurrentBias: "lstm.bh", weightLayout: "out_in", attributes: { hidden: 2, gateOrder: "ifgo", direction: "bidirectional" } },
];
const tensor = (name: string, shape: number[]) => ({ name, dtype: "f32" as const, shape, byteLength: shape.reduce((a, b) => a * b, 1) * 4 });

test("recurrent tensors, conv layouts, attributes and the data format round-trip", async () => {
  const model = {
    name: "graph.cnt",
    inputShape: [8, 8, 3],
    dataFormat: "channels_last" as const,
    layers,
    tensors: [tensor("conv.w", [3, 3, 3, 4]), tensor("up.w", [4, 2, 2, 2]), tensor("lstm.wi", [16, 3]), tensor("lstm.wh", [16, 2]), tensor("lstm.bi", [16]), tensor("lstm.bh", [16])],
  };
  const { head, dataBytes } = encodeCntHeader(model);
  const file = new Uint8Array(head.byteLength + dataBytes);
  file.set(head);
  const read = await openCnt(memorySource(file), limits());
  assert.is(read.dataFormat, "channels_last");
  assert.equal(read.inputShape, [8, 8, 3]);
  assert.equal(read.layers.map((l) => ({ ...l, attributes: l.attributes ? { ...l.attributes } : undefined })), layers.map((l) => ({ ...l, attributes: l.attributes })));
});

test("a layer whose recurrent weight names no tensor is refused", () => {
  assert.throws(
    () => encodeCntHeader({ name: "bad", layers: [{ name: "rnn", kind: "rnn", weight: "a", recurrentWeight: "missing" }], tensors: [tensor("a", [2, 2])] }),
    (e: Error & { code?: string }) => e.code === "BAD_HEADER" && /recurrentWeight 'missing'/.test(e.message),
  );
});

test.run();
