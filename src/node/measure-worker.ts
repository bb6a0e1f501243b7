// A worker of the Node pool (src/node/parallel.ts): measures its share of a model's tensors from
// the file and posts the summaries back (plain data; typed arrays transferred, not copied).
import { parentPort, workerData } from "node:worker_threads";
import "../entry/node-core.js";
import { measureTensors, type TensorSummary } from "../measure/measure.js";
import type { ModelInfo } from "../model/types.js";
import type { ResolvedOptions } from "../options.js";
import { Kernels } from "../kernels/kernels.js";
import { fileSource } from "./file-source.js";
import { asCntError } from "../errors.js";
import type { ByteSource } from "../source/types.js";
import type { TensorPassRequest } from "../measure/tensor-pass.js";

export interface WorkerTask {
  path: string;
  /** The caller's sibling policy (src/node/sibling.ts), for tensors in sibling files. */
  followLinks: boolean;
  model: ModelInfo;
  plans: [string, Pick<TensorPassRequest, "matrix" | "conv">][];
  options: ResolvedOptions;
}

export type WorkerMessage =
  | { kind: "progress"; bytes: number }
  | { kind: "done"; summaries: [string, TensorSummary][] }
  | { kind: "error"; error: { code?: string; message: string; name: string } };

const task = workerData as WorkerTask;
let source: ByteSource | undefined;
try {
  source = await fileSource(task.path, { followLinks: task.followLinks });
  let last = 0;
  const summaries = await measureTensors(
    { kernels: await Kernels.create(), source, options: task.options, onProgress: (p) => {
      parentPort!.postMessage({ kind: "progress", bytes: p.bytesDone - last } satisfies WorkerMessage);
      last = p.bytesDone;
    } },
    task.model,
    new Map(task.plans),
  );
  const entries = [...summaries.entries()];
  const transfer = entries.flatMap(([, s]) => [s.rowSums, s.colSums, s.sumOverA, s.sumOverB].filter((a): a is Float64Array => a !== undefined).map((a) => a.buffer as ArrayBuffer));
  parentPort!.postMessage({ kind: "done", summaries: entries } satisfies WorkerMessage, transfer);
} catch (error) {
  // Only a CntError's code crosses over: a Node error's code (ENOENT) is not one of ours.
  const e = asCntError(error, { file: task.path });
  parentPort!.postMessage({ kind: "error", error: { code: e.code, message: e.message, name: e.name } } satisfies WorkerMessage);
} finally {
  await source?.close().catch(() => undefined);
}
