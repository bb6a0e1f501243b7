/**
 * What a structurally valid `.cnt` header must also mean (hostile-inputs.md section 4, rule 9):
 * sizes agree with shapes and dtypes, tensors sit 64-aligned, sorted and apart inside the data
 * region, names are unique and layers name tensors that exist, graph constants and shapes are
 * usable as they stand. Runs on plain numbers that read.ts has already passed through
 * toSafeInteger, before anything is read from the data region; the writer runs the same checks.
 */
import { CntError, formatCount, quoteName, formatShape } from "../../errors.js";
import { checkedProduct } from "../../model/numbers.js";
import { DTYPE_BYTES, type DType, type GraphInfo, type KnownTensorStats, type LayerInfo, type TensorInfo } from "../../model/types.js";
import { DATA_ALIGN, MAX_CONSTANT_VALUES } from "./layout.js";

/** Header stats of a .cnt tensor: finite min/max after widening to f32, and the excluded values. */
export interface CntTensorStats extends KnownTensorStats {
  nan: number;
  posInf: number;
  negInf: number;
}

/** A tensor as the header declares it: offset relative to the data region. */
export interface DeclaredTensor {
  name: string;
  dtype: DType;
  shape: number[];
  offset: number;
  length: number;
  stats?: CntTensorStats;
}

export interface Placement {
  file: string;
  /** Absolute byte where the data region starts. */
  dataStart: number;
  /** Bytes from dataStart to the end of the source; undefined for a stream of unknown size. */
  dataBytes: number | undefined;
}

/**
 * Check every declared tensor and return them with absolute offsets, in file order.
 * @example const tensors = placeTensors(declared, { file, dataStart: 1024, dataBytes: size - 1024 })
 */
export function placeTensors(declared: readonly DeclaredTensor[], where: Placement): TensorInfo[] {
  const details = (tensor: string, offset?: number) => ({ format: "cnt", file: where.file, tensor, offset });
  const seen = new Set<string>();
  const placed: TensorInfo[] = [];
  let previous: DeclaredTensor | undefined;
  for (const t of declared) {
    const label = `tensor ${quoteName(t.name)} of the .cnt file ${quoteName(where.file)}`;
    if (seen.has(t.name)) throw new CntError("BAD_HEADER", `The header declares ${label} twice; tensor names must be unique.`, details(t.name));
    seen.add(t.name);

    const count = checkedProduct(t.shape, `The shape of ${label}`, details(t.name));
    const width = DTYPE_BYTES[t.dtype];
    const expected = count * width;
    if (!Number.isSafeInteger(expected)) {
      throw new CntError("BAD_SHAPE", `The shape ${formatShape(t.shape)} of ${label} needs more than 2^53 bytes.`, details(t.name));
    }
    if (expected !== t.length) {
      throw new CntError(
        "BAD_DTYPE",
        `The header gives ${label} (${t.dtype}, shape ${formatShape(t.shape)}) a length of ${formatCount(t.length)} bytes, but ${formatCount(count)} ${t.dtype} elements take ${formatCount(expected)}.`,
        { ...details(t.name), expected, actual: t.length },
      );
    }
    if (t.offset % DATA_ALIGN !== 0) {
      throw new CntError("BAD_HEADER", `The header places ${label} at data offset ${formatCount(t.offset)}, which is not a multiple of ${DATA_ALIGN}.`, details(t.name, where.dataStart + t.offset));
    }
    const end = t.offset + t.length;
    const absolute = where.dataStart + t.offset;
    if (!Number.isSafeInteger(end) || !Number.isSafeInteger(where.dataStart + end)) {
      throw new CntError("OUT_OF_BOUNDS", `${capitalize(label)} ends beyond byte 2^53 of the file.`, details(t.name));
    }
    if (previous !== undefined && t.offset < previous.offset + previous.length) {
      const how = t.offset < previous.offset ? "starts before" : "overlaps";
      throw new CntError(
        "OVERLAP",
        `In the .cnt file ${quoteName(where.file)}, tensor ${quoteName(t.name)} at data offset ${formatCount(t.offset)} ${how} tensor ${quoteName(previous.name)} (bytes ${formatCount(previous.offset)} to ${formatCount(previous.offset + previous.length)}); tensors must be sorted and apart.`,
        { ...details(t.name, absolute), expected: previous.offset + previous.length, actual: t.offset },
      );
    }
    if (where.dataBytes !== undefined && end > where.dataBytes) {
      throw new CntError(
        "OUT_OF_BOUNDS",
        `${capitalize(label)} ends at data byte ${formatCount(end)}, but the data region has ${formatCount(Math.max(0, where.dataBytes))} bytes.`,
        { ...details(t.name, absolute), expected: where.dataBytes, actual: end },
      );
    }
    if (t.stats) checkStats(t.stats, count, label, details(t.name));
    placed.push({ name: t.name, dtype: t.dtype, shape: t.shape, offset: absolute, byteLength: t.length, ...(t.stats ? { stats: t.stats } : {}) });
    previous = t;
  }
  return placed;
}

/**
 * Stats must be usable as histogram bounds: both finite with min <= max, or both absent (null),
 * and no more NaN/Inf than elements.
 * @example checkStats({ min: -1, max: 1, nan: 0, posInf: 0, negInf: 0 }, 16, "tensor 'w'", { format: "cnt" })
 */
export function checkStats(stats: CntTensorStats, count: number, label: string, details: { format: string; file?: string; tensor?: string }): void {
  const { min, max } = stats;
  const bothAbsent = min === null && max === null;
  const bothFinite = min !== null && max !== null && Number.isFinite(min) && Number.isFinite(max) && min <= max;
  if (!bothAbsent && !bothFinite) {
    throw new CntError("BAD_HEADER", `The stats of ${label} have min ${String(min)} and max ${String(max)}; expected finite values with min <= max, or both NaN.`, details);
  }
  const excluded = stats.nan + stats.posInf + stats.negInf;
  if (excluded > count) {
    throw new CntError("BAD_HEADER", `The stats of ${label} count ${formatCount(excluded)} NaN and infinite values, but the tensor has ${formatCount(count)} elements.`, { ...details, expected: count, actual: excluded });
  }
}

/**
 * Check layer names are unique and every weight or bias names a tensor of the file.
 * @example checkLayers(layers, new Set(tensors.map((t) => t.name)), "model.cnt")
 */
export function checkLayers(layers: readonly LayerInfo[], tensorNames: ReadonlySet<string>, file: string): void {
  const seen = new Set<string>();
  for (const layer of layers) {
    const label = `layer ${quoteName(layer.name)} of the .cnt file ${quoteName(file)}`;
    if (seen.has(layer.name)) throw new CntError("BAD_HEADER", `The header declares ${label} twice; layer names must be unique.`, { format: "cnt", file });
    seen.add(layer.name);
    for (const role of ["weight", "bias", "recurrentWeight", "recurrentBias"] as const) {
      const name = layer[role];
      if (name !== undefined && !tensorNames.has(name)) {
        throw new CntError("BAD_HEADER", `The header gives ${label} the ${role} ${quoteName(name)}, which is not a tensor of the file.`, { format: "cnt", file, tensor: name });
      }
    }
  }
}

/**
 * Check the graph section's meaning: every dim of an input or value shape is null (symbolic) or a
 * non-negative safe integer; a constant's shape has exactly as many elements as it has values (at
 * most MAX_CONSTANT_VALUES), and an integer constant holds safe integers only. What the graph code
 * then folds and indexes with (Reshape targets, axes) is bounded and exact.
 * @example checkGraph({ inputs: [{ name: "x", shape: [null, 3] }], outputs: ["y"] }, "model.cnt")
 */
export function checkGraph(graph: GraphInfo, file: string): void {
  const details = { format: "cnt", file };
  const fail = (field: string, name: string, text: string) =>
    new CntError("BAD_HEADER", `The .cnt header of ${quoteName(file)} gives ${field} ${quoteName(name)} ${text}.`, details);
  const checkDims = (dims: readonly (number | null)[], field: string, name: string) => {
    dims.forEach((d, i) => {
      if (d !== null && !(Number.isSafeInteger(d) && d >= 0)) throw fail(field, name, `dim ${i} = ${String(d)}; expected a non-negative integer below 2^53, or -1 (null) for a symbolic dim`);
    });
  };
  for (const input of graph.inputs) if (input.shape !== undefined) checkDims(input.shape, "the graph input (Graph.inputs)", input.name);
  for (const [name, dims] of Object.entries(graph.shapes ?? {})) checkDims(dims, "the value shape (Graph.shapes)", name);
  for (const [name, c] of Object.entries(graph.constants ?? {})) {
    const field = "the constant (Graph.constants)";
    let elements = 1;
    c.shape.forEach((d, i) => {
      if (!Number.isSafeInteger(d) || d < 0) throw fail(field, name, `dim ${i} = ${String(d)}; expected a non-negative integer below 2^53`);
      // Capped so the product stays exact: anything above the cap is refused below anyway.
      elements = Math.min(elements * d, MAX_CONSTANT_VALUES + 1);
    });
    if (c.values.length > MAX_CONSTANT_VALUES) throw fail(field, name, `${formatCount(c.values.length)} values; a constant holds at most ${formatCount(MAX_CONSTANT_VALUES)}`);
    if (elements !== c.values.length) throw fail(field, name, `${formatCount(c.values.length)} values, but its shape ${formatShape(c.shape)} has ${elements > MAX_CONSTANT_VALUES ? "more than " + formatCount(MAX_CONSTANT_VALUES) : formatCount(elements)} elements`);
    if (c.float !== true) {
      const bad = c.values.findIndex((v) => !Number.isSafeInteger(v));
      if (bad >= 0) throw fail(field, name, `the value ${String(c.values[bad])} at index ${bad}, but an integer constant holds integers in (-2^53, 2^53)`);
    }
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
