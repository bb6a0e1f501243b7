// A thread of the forward pass (src/node/forward-workers.ts): opens the model, measures it as
// analyze() does (the node layers need the walk), runs its share of the samples forward and
// sends back the partial.
import { workerData, parentPort } from "node:worker_threads";
import "../entry/node-setup.js";
import { measureModel } from "../analyze.js";
import { asCntError } from "../errors.js";
import { dataArgs } from "../forward/add-data.js";
import { runDataPartial, type DataPartial } from "../forward/data-metrics.js";
import { measureTensors } from "../measure/measure.js";
import type { AnalyzeFileOptions } from "./analyze-file.js";
import { fileSource } from "./file-source.js";
import { openDataFiles } from "./sample-files.js";
import type { SiblingPolicy } from "./sibling-policy.js";

export interface ForwardWorkerData {
  path: string;
  policy: SiblingPolicy;
  /** The analysis options, inputs and labels as arrays (structured clone) or file paths (opened here). */
  options: Omit<AnalyzeFileOptions, "signal" | "onProgress" | "workers" | "followLinks">;
  first: number;
  end: number;
}

export type ForwardReply = { kind: "done"; partial: DataPartial } | { kind: "failed"; error: { code: string; message: string } };

const { path, policy, options: given, first, end } = workerData as ForwardWorkerData;

async function run(): Promise<ForwardReply> {
  let source: Awaited<ReturnType<typeof fileSource>> | undefined;
  let files: Awaited<ReturnType<typeof openDataFiles>> | undefined;
  try {
    files = await openDataFiles(given.inputs, given.labels);
    const options = { ...given, inputs: files.inputs, labels: files.labels };
    source = await fileSource(path, policy);
    const { model, strengths, resolved } = await measureModel(source, options, measureTensors);
    return { kind: "done", partial: await runDataPartial({ ...dataArgs(model, source, strengths.layers, options, resolved), first, end }) };
  } catch (error) {
    const e = asCntError(error, { file: path });
    return { kind: "failed", error: { code: e.code, message: e.message } };
  } finally {
    await source?.close();
    await files?.close();
  }
}

void run().then((reply) => parentPort!.postMessage(reply));
