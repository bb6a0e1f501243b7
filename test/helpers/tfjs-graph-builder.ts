// Builds a TF.js graph model (model.json + one float32 shard) in memory from GraphDef nodes, for
// tests of single ops: integer constants inline (intVal), float constants in the manifest.
import { filesSource } from "../../src/entry/node-core.js";

type Json = Record<string, unknown>;

/** An int32 Const node with its values inline. */
export const intConst = (name: string, values: number[], shape = [values.length]): Json => ({
  name, op: "Const", attr: { dtype: { type: "DT_INT32" }, value: { tensor: { dtype: "DT_INT32", tensorShape: { dim: shape.map((d) => ({ size: String(d) })) }, intVal: values.map(String) } } },
});
/** A float32 Const node whose values go into the shard. */
export const floatConst = (name: string, shape: number[], values: number[]): Json & { values: number[]; shape: number[] } => ({
  name, op: "Const", attr: { dtype: { type: "DT_FLOAT" }, value: { tensor: { dtype: "DT_FLOAT", tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } }, values, shape,
});
export const placeholder = (name: string, shape: number[]): Json => ({ name, op: "Placeholder", attr: { dtype: { type: "DT_FLOAT" }, shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } } } });
export const op = (name: string, type: string, input: string[], attr: Json = {}): Json => ({ name, op: type, input, attr });

/** The model.json and its shard as a ByteSource. */
export function graphModel(nodes: Json[], extra: Json = {}) {
  const floats = nodes.filter((n) => Array.isArray((n as { values?: unknown }).values)) as (Json & { values: number[]; shape: number[] })[];
  const total = floats.reduce((a, f) => a + f.values.length, 0);
  const shard = new Float32Array(total);
  let at = 0;
  for (const f of floats) (shard.set(f.values, at), (at += f.values.length));
  const clean = nodes.map(({ values, shape, ...n }) => (Array.isArray(values) ? n : { ...n, ...(shape !== undefined ? { shape } : {}) }));
  const json = {
    format: "graph-model", generatedBy: "test", convertedBy: "test",
    modelTopology: { node: clean, versions: { producer: 1 }, ...extra },
    weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: floats.map((f) => ({ name: f.name, shape: f.shape, dtype: "float32" })) }],
  };
  return filesSource(new Map<string, Uint8Array>([["model.json", new TextEncoder().encode(JSON.stringify(json))], ["group1-shard1of1.bin", new Uint8Array(shard.buffer)]]), "model.json");
}

/** TF's list attribute of integers. */
export const ints = (values: number[]): Json => ({ list: { i: values.map(String) } });
/** TF's string attribute, base64 as tfjs-converter writes it. */
export const str = (s: string): Json => ({ s: btoa(s) });
