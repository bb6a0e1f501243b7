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
 * The byte source of each tensor: the model's own, a sibling file (opened once, kept open until
 * close()), or the tensor's decoded bytes.
 * @example
 *   const sources = new TensorSources(source);
 *   try { for (const t of model.tensors) await runTensorPass({ ...ctx, source: await sources.for(t) }, { tensor: t }); }
 *   finally { await sources.close(); }
 */
export class TensorSources {
  private readonly siblings = new Map<string, Promise<ByteSource>>();
  /** The last decoded tensor's source; only one is kept open, so file handles stay bounded. */
  private decoded: ByteSource | undefined;

  constructor(readonly main: ByteSource) {}

  async for(tensor: TensorInfo): Promise<ByteSource> {
    const placed = tensor;
    if (placed.data) return memorySource(placed.data, `${this.main.name}#${tensor.name}`);
    if (placed.decode) {
      await this.decoded?.close();
      this.decoded = undefined;
      return (this.decoded = await openTensorSource(this.main, placed));
    }
    if (placed.file === undefined) return this.main;
    let sibling = this.siblings.get(placed.file);
    if (!sibling) {
      if (!this.main.sibling) {
        throw new CntError("TRUNCATED", `Tensor ${quoteName(tensor.name)} is stored in the file ${quoteName(placed.file)} beside ${quoteName(this.main.name)}, but this input cannot open other files; pass a file path (cntscope/node) or filesSource().`, { file: this.main.name, tensor: tensor.name });
      }
      sibling = this.main.sibling(placed.file);
      this.siblings.set(placed.file, sibling);
    }
    return sibling;
  }

  /** Close every sibling opened. */
  async close(): Promise<void> {
    await this.decoded?.close();
    this.decoded = undefined;
    const opened = [...this.siblings.values()];
    this.siblings.clear();
    for (const p of opened) {
      try {
        await (await p).close();
      } catch {
        // a sibling that failed to open has nothing to close
      }
    }
  }
}
