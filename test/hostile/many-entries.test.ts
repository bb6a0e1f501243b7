// Real checkpoints have many tensors (an MoE state_dict about 90,000): the defaults admit 100,000;
// a graph of a million nodes is refused by its count before any node is decoded.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inspect } from "../../src/entry/node-core.js";
import { rejects } from "../helpers/rejects.js";

test("a safetensors file of 100,000 tensors opens with the default limits", async () => {
  const n = 100_000;
  const header: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) header[`model.layers.${i >> 8}.experts.${i & 255}.w.weight`] = { dtype: "F32", shape: [1], data_offsets: [4 * i, 4 * i + 4] };
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += " ";
  const head = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + head.length + 4 * n);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
  bytes.set(head, 8);
  const model = await inspect(bytes, { name: "moe.safetensors" });
  assert.is(model.tensors.length, n);
});

/** An ONNX model whose graph holds `n` Relu nodes (x -> y), written with the test's own protobuf bytes. */
function onnxOfNodes(n: number): Uint8Array {
  const varint = (v: number) => { const b: number[] = []; while (v > 127) { b.push((v & 127) | 128); v = Math.floor(v / 128); } b.push(v); return b; };
  const field = (num: number, bytes: number[]) => [...varint((num << 3) | 2), ...varint(bytes.length), ...bytes];
  const text = (s: string) => [...new TextEncoder().encode(s)];
  const node = field(1, [...field(1, text("x")), ...field(2, text("y")), ...field(4, text("Relu"))]);
  const graph = new Uint8Array(node.length * n);
  for (let i = 0; i < n; i++) graph.set(node, i * node.length);
  const head = [8, 7, ...field(8, [16, 13]), ...varint((7 << 3) | 2), ...varint(graph.length)];
  const out = new Uint8Array(head.length + graph.length);
  out.set(head);
  out.set(graph, head.length);
  return out;
}

test("an ONNX graph of 1,000,000 nodes is TOO_LARGE by its count, before a node is decoded", async () => {
  await rejects(() => inspect(onnxOfNodes(1_000_000), { name: "huge.onnx" }), "TOO_LARGE", "counted before decoding");
  await rejects(() => inspect(onnxOfNodes(300), { name: "small.onnx", limits: { maxLayers: 299 } }), "TOO_LARGE", "counted before decoding");
  const fits = await inspect(onnxOfNodes(300), { name: "small.onnx", limits: { maxLayers: 300 } });
  assert.is(fits.layers.length, 300);
});

test.run();
