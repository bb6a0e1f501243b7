/**
 * Where a tensor's bytes are. Most sit in the model's own source at `offset`. Two kinds do not,
 * and carry one extra field each (src/model/types.ts TensorInfo):
 *
 *   file  in a sibling file (ONNX external data, TF.js weight shards): the bytes are at `offset`
 *         in it, opened with `source.sibling(file)` (which refuses unsafe paths);
 *   data  decoded by the reader from the model's structure (ONNX typed fields), `offset`
 *         relative to them; bounded by limits.maxHeaderBytes and not enumerable.
 *   decode  stored in another form (shards split across files, base64, deflate, quantized,
 *         big-endian): read through src/source/tensor-bytes.ts, which streams the decoded bytes.
 *
 * The tensor passes read a tensor from `TensorSources.for(tensor)` instead of the model's source.
 */
import { CntError, quoteName } from "../errors.js";
import type { TensorInfo } from "../model/types.js";
import { memorySource } from "./memory.js";
import { openTensorSource } from "./tensor-bytes.js";
import type { ByteSource } from "./types.js";

/** A tensor description with its placement fields (kept as a name for the readers that set them). */
export type PlacedTensorInfo = TensorInfo;

/** Attach decoded bytes to a tensor description without making them part of its JSON. */
export function attachData(tensor: PlacedTensorInfo, data: Uint8Array): PlacedTensorInfo {
  Object.defineProperty(tensor, "data", { value: data, enumerable: false, writable: false, configurable: false });
  return tensor;
}

/**
 * The byte source of each tensor: the model's own, a sibling file, or the tensor's decoded bytes.
 * One tensor is read at a time, so at most one sibling and one decoded tensor are held open: the
 * sibling is kept while the tensors that follow are in the same file, and let go when one is in
 * another. Opening a sibling again is cheap where it matters (cntscope/node's fileSource keeps
 * its siblings open for the whole analysis, src/node/sibling-handles.ts), and the number of files
 * held here stays bounded however many a model names (ONNX can write one file per tensor).
 * @example
 *   const sources = new TensorSources(source);
 *   try { for (const t of model.tensors) await runTensorPass({ ...ctx, source: await sources.for(t) }, { tensor: t }); }
 *   finally { await sources.close(); }
 */
export class TensorSources {
  /** The sibling the last tensor in a sibling file was read from. */
  private sibling: { file: string; source: Promise<ByteSource> } | undefined;
  /** The last decoded tensor's source. */
  private decoded: ByteSource | undefined;

  constructor(readonly main: ByteSource) {}

  async for(tensor: TensorInfo): Promise<ByteSource> {
    const placed = tensor;
    await this.closeDecoded();
    if (placed.data) return memorySource(placed.data, `${this.main.name}#${tensor.name}`);
    if (placed.decode) return (this.decoded = await openTensorSource(this.main, placed));
    if (placed.file === undefined) return this.main;
    if (this.sibling?.file === placed.file) return this.sibling.source;
    await this.closeSibling();
    if (!this.main.sibling) {
      throw new CntError("TRUNCATED", `Tensor ${quoteName(tensor.name)} is stored in the file ${quoteName(placed.file)} beside ${quoteName(this.main.name)}, but this input cannot open other files; pass a file path (cntscope/node) or filesSource().`, { file: this.main.name, tensor: tensor.name });
    }
    const source = this.main.sibling(placed.file);
    this.sibling = { file: placed.file, source };
    return source;
  }

  /** Close the sibling and decoded sources still held. */
  async close(): Promise<void> {
    try {
      await this.closeDecoded();
    } finally {
      await this.closeSibling();
    }
  }

  private async closeDecoded(): Promise<void> {
    const decoded = this.decoded;
    this.decoded = undefined;
    await decoded?.close();
  }

  private async closeSibling(): Promise<void> {
    const held = this.sibling;
    this.sibling = undefined;
    if (!held) return;
    let source: ByteSource;
    try {
      source = await held.source;
    } catch {
      return; // it failed to open: nothing to close
    }
    await source.close();
  }
}
