/**
 * Sharded safetensors checkpoints: `model.safetensors.index.json` maps every tensor name to the
 * shard file that holds it, `{"metadata": {...}, "weight_map": {"<name>": "<shard>", ...}}`.
 * Each shard is an ordinary safetensors file beside the index, opened through
 * ByteSource.sibling (so names that leave the folder are refused) and read with the safetensors
 * reader; its tensors are then read from that file (TensorInfo.file).
 */
import { CntError, quoteName } from "../../errors.js";
import { stateDictGraph } from "../shared/state-dict.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import type { ModelInfo, SkippedTensor, TensorInfo } from "../../model/types.js";
import type { ByteSource } from "../../source/types.js";
import * as safetensors from "./read.js";

const FORMAT = "safetensors-index";

export { detectSafetensorsIndex as detect } from "../detect.js";

export async function open(source: ByteSource, limits: Limits): Promise<ModelInfo> {
  const file = source.name;
  const fail = (code: ConstructorParameters<typeof CntError>[0], message: string, extra: object = {}) =>
    new CntError(code, `safetensors index ${quoteName(file)}: ${message}`, { format: FORMAT, file, ...extra });
  if (source.size === undefined) throw fail("BAD_OPTION", "an index names shard files beside it, so it must be read from a file or filesSource(), not a stream.");
  checkLimit(limits, "maxHeaderBytes", source.size, `safetensors index '${file}': its size`, { format: FORMAT, file });
  const raw = new Uint8Array(source.size);
  await source.readInto(0, raw);
  let text: string;
  let parsed: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
    parsed = JSON.parse(text);
  } catch (error) {
    throw fail("BAD_HEADER", `it is not valid UTF-8 JSON (${quoteName((error as Error).message)}).`, { cause: error });
  }
  const map = (parsed as { weight_map?: unknown }).weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) throw fail("BAD_HEADER", 'it has no "weight_map" object.');
  const names = Object.keys(map);
  checkLimit(limits, "maxTensors", names.length, `safetensors index '${file}': tensor count`, { format: FORMAT, file });
  const shardOf = new Map<string, string>();
  for (const name of names) {
    const shard = (map as Record<string, unknown>)[name];
    if (typeof shard !== "string") throw fail("BAD_HEADER", `the shard of tensor ${quoteName(name)} is not a file name.`, { tensor: name });
    shardOf.set(name, shard);
  }
  if (!source.sibling) throw fail("TRUNCATED", "its shards sit in other files, which this input cannot open; pass a file path (cntscope/node) or filesSource().");

  const tensors: TensorInfo[] = [];
  const skipped: SkippedTensor[] = [];
  const shards = [...new Set(shardOf.values())].sort();
  for (const shard of shards) {
    const shardSource = await source.sibling(shard);
    try {
      const model = await safetensors.open(shardSource, limits);
      for (const t of model.tensors) {
        if (shardOf.get(t.name) !== shard) continue; // a tensor the index places elsewhere (or not at all) is not read
        tensors.push({ ...t, file: shard });
      }
      skipped.push(...(model.skipped ?? []).filter((s) => shardOf.get(s.name) === shard));
    } finally {
      await shardSource.close();
    }
  }
  const found = new Set([...tensors.map((t) => t.name), ...skipped.map((s) => s.name)]);
  for (const [name, shard] of shardOf) {
    if (!found.has(name)) throw fail("BAD_HEADER", `tensor ${quoteName(name)} is mapped to ${quoteName(shard)}, which does not hold it.`, { tensor: name });
  }
  const { layers, graph, notes } = await stateDictGraph(source, tensors);
  return { format: FORMAT, name: file, bytes: source.size, tensors, layers, ...(graph ? { graph } : {}), ...(notes.length > 0 ? { notes } : {}), skipped };
}
