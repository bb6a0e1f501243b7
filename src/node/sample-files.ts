// Input samples and labels by file path (analyzeFile's `inputs: "x.npy"`, the CLI's --inputs and
// --labels): the file is opened here and read a batch at a time by the readers of
// src/forward/inputs/, then closed by whoever asked (close()).
import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { CntError } from "../errors.js";
import { isNpy } from "../formats/numpy/header.js";
import { isZip } from "../formats/shared/zip.js";
import type { DataInputs } from "../forward/inputs/arrays.js";
import { fileLabels, npySamples } from "../forward/inputs/npy.js";
import { npzSamples } from "../forward/inputs/npz.js";
import type { LabelSource, SampleSource } from "../forward/inputs/types.js";
import type { ByteSource } from "../source/types.js";
import { fileSystemError } from "./fs-errors.js";
import { openedFile } from "./opened-file.js";

/** A file opened for its samples or labels; messages name it by its path as given. */
async function dataFile(path: string, what: "inputs" | "labels"): Promise<ByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw fileSystemError(error, `Cannot open the ${what} '${path}'`, path);
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new CntError("BAD_OPTION", `The ${what} '${path}' is not a regular file.`, { file: path });
  }
  // The file's own name in messages ("Inputs 'x.npy': ..."), the path in the error's `file`.
  return openedFile(path, handle, stat.size).source;
}

/**
 * The samples of a `.npy` (one input, named after the file) or a `.npz` (one input per entry),
 * told apart by content; close() closes the file.
 * @example
 *   const samples = await sampleFile("batch.npz");
 *   try { ... } finally { await samples.close?.(); }
 */
export async function sampleFile(path: string): Promise<SampleSource> {
  const source = await dataFile(path, "inputs");
  try {
    const first = new Uint8Array(Math.min(6, source.size ?? 0));
    await source.readInto(0, first);
    let samples: SampleSource;
    if (isNpy(first)) samples = await npySamples(source, basename(path).replace(/\.npy$/i, "") || "input");
    else if (isZip(first)) samples = await npzSamples(source);
    else throw new CntError("BAD_OPTION", `The inputs '${path}' are neither a .npy array nor a .npz archive of them (save them with np.save or np.savez).`, { file: path });
    return { count: samples.count, inputs: samples.inputs, read: (name, start, count, into) => samples.read(name, start, count, into), close: () => source.close() };
  } catch (error) {
    await source.close();
    throw error;
  }
}

/**
 * Labels by path: a `.npy` of integers, (N,) or (N, 1), or a text column of integers; close()
 * closes the file.
 * @example
 *   const labels = await labelFile("y.npy"); // labels.count: one class index per sample
 */
export async function labelFile(path: string): Promise<LabelSource> {
  const source = await dataFile(path, "labels");
  try {
    const labels = await fileLabels(source);
    return { count: labels.count, read: (start, count, into) => labels.read(start, count, into), close: () => source.close() };
  } catch (error) {
    await source.close();
    throw error;
  }
}

/** analyzeFile's `inputs`: a path, or what analyze() takes. */
export type FileInputs = string | DataInputs;
/** analyzeFile's `labels`: a path, or what analyze() takes. */
export type FileLabels = string | ArrayLike<number> | LabelSource;

/**
 * `inputs` and `labels` with paths opened as sources (others passed on as given), and close(),
 * which closes only what was opened here.
 */
export async function openDataFiles(inputs: FileInputs | undefined, labels: FileLabels | undefined): Promise<{ inputs?: DataInputs; labels?: ArrayLike<number> | LabelSource; close(): Promise<void> }> {
  const opened: (SampleSource | LabelSource)[] = [];
  const close = async () => {
    for (const source of opened.splice(0)) await source.close?.();
  };
  try {
    let samples: DataInputs | undefined;
    let classes: ArrayLike<number> | LabelSource | undefined;
    if (typeof inputs === "string") opened.push((samples = await sampleFile(inputs)));
    else samples = inputs;
    if (typeof labels === "string") {
      if (inputs === undefined) throw new CntError("BAD_OPTION", `Option labels gives the class of each input sample, so it needs inputs (the samples) too.`, { file: labels });
      const source = await labelFile(labels);
      opened.push(source);
      if (typeof inputs === "string" && source.count !== (samples as SampleSource).count) {
        throw new CntError("BAD_OPTION", `The labels '${labels}' hold ${source.count} class indices but the inputs '${inputs}' hold ${(samples as SampleSource).count} samples; give one label per sample.`, { file: labels, expected: (samples as SampleSource).count, actual: source.count });
      }
      classes = source;
    } else classes = labels;
    return { inputs: samples, labels: classes, close };
  } catch (error) {
    await close();
    throw error;
  }
}
