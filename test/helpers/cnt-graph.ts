import { analyze } from "../../src/entry/node-core.js";
import { encodeCntHeader } from "../../src/formats/cnt/write.js";
import type { GraphInfo, LayerInfo } from "../../src/model/types.js";
import type { Report } from "../../src/report/types.js";
import { f64Bytes } from "./safetensors-writer.js";

/** A small graph written as a .cnt file (f64 tensors, channels first), analyzed with perNode. */
export async function analyzeCntGraph(layers: LayerInfo[], tensors: { name: string; shape: number[]; values: number[] }[], graph: GraphInfo): Promise<Report> {
  const { head, offsets, dataBytes } = encodeCntHeader({ name: "t", dataFormat: "channels_first", layers, graph, tensors: tensors.map((t) => ({ name: t.name, dtype: "f64" as const, shape: t.shape, byteLength: t.values.length * 8 })) });
  const file = new Uint8Array(head.byteLength + dataBytes);
  file.set(head);
  tensors.forEach((t, i) => file.set(f64Bytes(t.values), head.byteLength + offsets[i]));
  return analyze(file, { perNode: true, name: "t.cnt" });
}
