/**
 * Samples and labels given as typed arrays (the API's `inputs` and `labels`): one array of N
 * samples, or several by graph input name, each with its shape (N first).
 */
import { CntError, formatShape, quoteName } from "../../errors.js";
import type { LabelSource, SampleInput, SampleSource } from "./types.js";

export type NumberArray = Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | BigInt64Array | number[];

/** N samples of one input: `shape` is [N, ...one sample]. */
export interface ArrayInput {
  data: NumberArray;
  shape: number[];
}

export type DataInputs = ArrayInput | Record<string, ArrayInput> | SampleSource;

export function isSampleSource(x: unknown): x is SampleSource {
  return typeof x === "object" && x !== null && typeof (x as SampleSource).read === "function" && Array.isArray((x as SampleSource).inputs);
}

function isArrayInput(x: unknown): x is ArrayInput {
  return typeof x === "object" && x !== null && "data" in x && "shape" in x && Array.isArray((x as ArrayInput).shape);
}

/**
 * A SampleSource over arrays. A single array is the graph's first input (`firstInput`); arrays by
 * name must match the graph's input names.
 */
export function arraySamples(inputs: ArrayInput | Record<string, ArrayInput>, firstInput: string): SampleSource {
  const named: [string, ArrayInput][] = isArrayInput(inputs) ? [[firstInput, inputs]] : Object.entries(inputs);
  if (named.length === 0) throw new CntError("BAD_OPTION", "Option inputs holds no arrays.");
  let count: number | undefined;
  const list: SampleInput[] = [];
  const byName = new Map<string, ArrayInput>();
  for (const [name, input] of named) {
    if (!isArrayInput(input)) throw new CntError("BAD_OPTION", `Input ${quoteName(name)} must be { data, shape }.`);
    const { data, shape } = input;
    if (shape.length < 1 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new CntError("BAD_OPTION", `Input ${quoteName(name)} has shape ${formatShape(shape)}; give [samples, ...one sample].`);
    const elements = shape.reduce((a, d) => a * d, 1);
    if (data.length !== elements) throw new CntError("BAD_OPTION", `Input ${quoteName(name)} has shape ${formatShape(shape)} (${elements} values) but its data holds ${data.length}.`);
    if (count !== undefined && shape[0] !== count) throw new CntError("BAD_OPTION", `Input ${quoteName(name)} has ${shape[0]} samples and another input ${count}; every input needs one entry per sample.`);
    count = shape[0];
    const integer = !(data instanceof Float32Array || data instanceof Float64Array || Array.isArray(data));
    list.push({ name, sampleShape: shape.slice(1), kind: integer ? "int" : "float" });
    byName.set(name, input);
  }
  return {
    count: count!,
    inputs: list,
    async read(name, first, n, into) {
      const input = byName.get(name);
      if (!input) throw new CntError("BAD_OPTION", `No input named ${quoteName(name)}; the inputs are ${[...byName.keys()].map(quoteName).join(", ")}.`);
      const per = input.shape.slice(1).reduce((a, d) => a * d, 1);
      const data = input.data;
      if (data instanceof BigInt64Array) {
        for (let i = 0; i < n * per; i++) into[i] = Number(data[first * per + i]);
      } else if (Array.isArray(data)) {
        for (let i = 0; i < n * per; i++) into[i] = data[first * per + i];
      } else {
        into.set(data.subarray(first * per, (first + n) * per));
      }
    },
  };
}

/** Labels as a LabelSource: class indices, one per sample. */
export function arrayLabels(labels: ArrayLike<number> | LabelSource): LabelSource {
  if (typeof (labels as LabelSource).read === "function") return labels as LabelSource;
  const list = labels as ArrayLike<number>;
  return {
    count: list.length,
    async read(first, n, into) {
      for (let i = 0; i < n; i++) into[i] = Number(list[first + i]);
    },
  };
}
