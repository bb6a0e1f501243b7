import { callError, openModel } from "./analyze.js";
import type { ModelInfo } from "./model/types.js";
import { CntError, quoteName, throwIfAborted } from "./errors.js";
import { writeCnt, type CntTensorInput } from "./formats/cnt/write.js";
import { runTensorPass } from "./measure/tensor-pass.js";
import { resolveOptions, type AnalyzeOptions } from "./options.js";
import { toByteSource, type ModelInput } from "./source/open.js";
import type { ByteSource } from "./source/types.js";
import { TensorSources } from "./source/tensor-sources.js";
import { Kernels } from "./kernels/kernels.js";

/**
 * Convert any model cntscope reads into its own `.cnt` format, as a stream of chunks. Each
 * tensor's range and non-finite counts are measured first and stored in the header, so a later
 * one-pass read (even from a one-shot stream) bins its histograms exactly.
 * @example
 *   const chunks = []; for await (const c of convertToCnt(safetensorsBytes)) chunks.push(c);
 *   const report = await analyze(new Blob(chunks));
 */
export async function* convertToCnt(input: ModelInput, options: Pick<AnalyzeOptions, "name" | "limits" | "blockBytes" | "signal" | "onProgress"> = {}): AsyncGenerator<Uint8Array> {
  let source: ByteSource | undefined;
  let sources: TensorSources | undefined;
  try {
    const resolved = resolveOptions(options);
    source = toByteSource(input, { name: options.name, signal: options.signal });
    const opened = (sources = new TensorSources(source));
    throwIfAborted(options.signal, `Converting ${quoteName(source.name)}`, { file: source.name });
    if (!source.randomAccess) {
      throw new CntError("BAD_OPTION", `Converting '${source.name}' needs a source that can be read twice (a file, Blob or buffer), not a one-shot stream.`, { file: source.name });
    }
    const model = await openModel(source, resolved.limits);
    const kernels = await Kernels.create();
    const tensors: CntTensorInput[] = [];
    // Every tensor is read twice: once for its range (stored in the header), once to copy it.
    const bytesTotal = 2 * model.tensors.reduce((sum, t) => sum + t.byteLength, 0);
    let bytesBefore = 0;
    const progress = (tensor: string, pass: "moments" | "copy") => (bytes: number) => options.onProgress?.({ tensor, bytesDone: bytesBefore + bytes, bytesTotal, pass });
    for (const tensor of model.tensors) {
      const { moments: m } = await runTensorPass({ kernels, source: await opened.for(tensor), blockBytes: resolved.blockBytes, signal: options.signal, onBlock: progress(tensor.name, "moments") }, { tensor });
      bytesBefore += tensor.byteLength;
      tensors.push({ name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, byteLength: tensor.byteLength, stats: { min: m.min, max: m.max, nan: m.nan, posInf: m.posInf, negInf: m.negInf } });
    }
    const layers = model.layers.filter((l) => l.weight === undefined || tensors.some((t) => t.name === l.weight));
    yield* writeCnt(
      { name: model.name, inputShape: model.inputShape, dataFormat: model.dataFormat, layers, tensors, graph: withSkippedShapes(model), metadata: { ...model.metadata, convertedFrom: model.format } },
      async function* (index) {
        const tensor = model.tensors[index];
        const onChunk = progress(tensor.name, "copy");
        yield* tensorChunks(await opened.for(tensor), tensor.offset, tensor.byteLength, resolved.blockBytes, options.signal, onChunk);
        bytesBefore += tensor.byteLength;
      },
    );
  } catch (error) {
    throw callError(error, options.signal, "Converting", source?.name);
  } finally {
    await sources?.close().catch(() => undefined);
    await source?.close();
  }
}

async function* tensorChunks(source: ByteSource, offset: number, length: number, blockBytes: number, signal: AbortSignal | undefined, onChunk: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for (let done = 0; done < length; done += blockBytes) {
    throwIfAborted(signal, `Converting ${quoteName(source.name)}`, { file: source.name });
    const chunk = new Uint8Array(Math.min(blockBytes, length - done));
    await source.readInto(offset + done, chunk);
    onChunk(done + chunk.byteLength);
    yield chunk;
  }
}

/**
 * Tensors the metrics do not read (int64 shapes, bool masks) are not written to a .cnt, but the
 * graph still names them: their shapes go with the graph, so the walk knows them as constants.
 */
function withSkippedShapes(model: ModelInfo): ModelInfo["graph"] {
  if (!model.graph || !model.skipped?.length) return model.graph;
  const shapes: Record<string, (number | null)[]> = Object.assign(Object.create(null), model.graph.shapes);
  for (const t of model.skipped) if (!(t.name in shapes) && !model.graph.constants?.[t.name]) shapes[t.name] = [...t.shape];
  return { ...model.graph, shapes };
}
