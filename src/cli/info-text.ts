import { formatCount, formatShape } from "../errors.js";
import type { ModelInfo, TensorInfo } from "../model/types.js";
import { csvText } from "../report/csv.js";

/**
 * What `cntscope info` prints: the file's format and size, its layers by kind, the parameter
 * total, the tensors by dtype, what was skipped and the reader's notes. `--json` prints the
 * whole description instead.
 */
export function formatInfo(model: ModelInfo): string {
  const lines: string[] = [];
  const bytes = model.bytes === undefined ? "" : `, ${formatCount(model.bytes)} bytes`;
  lines.push(`${model.name}  (${model.format}${bytes})`);
  const params = model.tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
  const tensorBytes = model.tensors.reduce((sum, t) => sum + t.byteLength, 0);
  lines.push(`parameters: ${formatCount(params)} in ${formatCount(model.tensors.length)} tensors (${formatCount(tensorBytes)} bytes as read)`);
  const byDtype = tally(model.tensors.map(storedType));
  lines.push(`dtypes: ${[...byDtype].map(([d, n]) => `${d} x${formatCount(n)}`).join(", ")}`);
  const weighted = model.layers.filter((l) => l.kind !== "none");
  const byKind = tally(weighted.map((l) => l.kind));
  lines.push(`layers: ${formatCount(weighted.length)} with weights (${[...byKind].map(([k, n]) => `${k} x${formatCount(n)}`).join(", ") || "none"}), ${formatCount(model.layers.length - weighted.length)} without`);
  if (model.inputShape) lines.push(`input: ${formatShape(model.inputShape)}${model.dataFormat ? ` (${model.dataFormat})` : ""}`);
  if (model.graph) lines.push(`graph: inputs ${model.graph.inputs.map((i) => `${i.name} ${formatShape(i.shape)}`).join(", ") || "none"}; outputs ${model.graph.outputs.join(", ") || "none"}`);
  lines.push("");
  const shown = model.layers.filter((l) => l.kind !== "none");
  const width = Math.min(48, Math.max(4, ...shown.map((l) => l.name.length)));
  const tensors = new Map(model.tensors.map((t) => [t.name, t]));
  for (const layer of shown.slice(0, 200)) {
    const weight = layer.weight === undefined ? undefined : tensors.get(layer.weight);
    lines.push(`  ${layer.name.slice(0, width).padEnd(width)}  ${layer.kind.padEnd(16)}  ${weight ? `${formatShape(weight.shape)} ${storedType(weight)}` : ""}`);
  }
  if (shown.length > 200) lines.push(`  ... ${formatCount(shown.length - 200)} more layers (cntscope info --json lists them all)`);
  for (const s of model.skipped ?? []) lines.push(`skipped ${s.name} ${formatShape(s.shape)} ${s.dtype}: ${s.reason}`);
  for (const note of model.notes ?? []) lines.push(`note: ${note}`);
  return lines.join("\n");
}

/** `info --csv`: one row per layer with weights: name, kind, the weight's shape and stored dtype, its parameters. */
export function infoCsv(model: ModelInfo): string {
  const tensors = new Map(model.tensors.map((t) => [t.name, t]));
  const size = (name: string | undefined) => (name === undefined ? 0 : (tensors.get(name)?.shape ?? []).reduce((a, b) => a * b, 1));
  const rows = model.layers
    .filter((l) => l.kind !== "none")
    .map((l) => {
      const w = l.weight === undefined ? undefined : tensors.get(l.weight);
      return [l.name, l.kind, w ? w.shape.join("x") : "", w ? storedType(w) : "", size(l.weight) + size(l.bias) + size(l.recurrentWeight) + size(l.recurrentBias)];
    });
  return csvText(["name", "kind", "weight_shape", "dtype", "params"], rows);
}

/** The dtype as stored: a block quantization by name (GGUF Q4_K: the values are read as f32). */
function storedType(t: TensorInfo): string {
  return t.decode?.values?.kind === "gguf" ? t.decode.values.type : t.dtype;
}

function tally(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
