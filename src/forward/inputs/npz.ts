/**
 * Named input samples from a NumPy `.npz` (np.savez(path, input_ids=..., mask=...)): each entry
 * is one graph input, named by its entry name without ".npy", every one with the same number of
 * samples N. Stored entries (np.savez) are read in place a batch at a time; deflated ones
 * (np.savez_compressed) are inflated as a stream that moves forward with the batches, one per
 * entry (memory: a chunk of inflated bytes and one batch, never the entry; a read that goes back
 * inflates again from the start, and the entry's CRC-32 is checked when its end is reached).
 */
import { CntError, formatCount, quoteName } from "../../errors.js";
import { readHeader } from "../../formats/numpy/read.js";
import { readZipDirectory, type ZipEntry } from "../../formats/shared/zip.js";
import { resolveLimits, type Limits } from "../../model/limits.js";
import { inflateChunks } from "../../source/tensor-bytes.js";
import type { ByteSource } from "../../source/types.js";
import { arraysSource, checkDataLength, failFor, sampleArray, type ReadAt, type SampleArray } from "./npy.js";
import type { SampleSource } from "./types.js";

/**
 * The samples of a `.npz` file as a SampleSource, one input per entry. The source stays open:
 * its owner closes it.
 * @example
 *   const samples = await npzSamples(source); // samples.inputs.map((i) => i.name): ["input_ids", "mask"]
 */
export async function npzSamples(source: ByteSource, limits: Partial<Limits> = {}): Promise<SampleSource> {
  const file = source.name;
  const fail = failFor(`inputs '${file}'`, file);
  if (source.size === 0) throw fail("TRUNCATED", "the file is empty.");
  const resolved = resolveLimits(limits);
  const entries = await readZipDirectory(source, resolved, "npz");
  if (entries.length === 0) throw fail("BAD_OPTION", "the archive holds no arrays; save the inputs with np.savez(path, <input name>=array, ...).");
  const arrays: SampleArray[] = [];
  for (const entry of [...entries].sort((a, b) => a.localOffset - b.localOffset)) {
    const entryFail = failFor(`inputs '${file}'`, file, entry.name);
    if (!entry.name.endsWith(".npy") || entry.name === ".npy") throw entryFail("BAD_HEADER", "is not a named .npy array; a .npz of inputs holds one '<input name>.npy' per graph input.");
    if (entry.method !== 0 && entry.method !== 8) throw entryFail("UNSUPPORTED_FORMAT", `uses zip compression method ${entry.method}; cntscope reads stored (np.savez) and deflated (np.savez_compressed) entries.`);
    if (entry.method === 8 && entry.size > resolved.maxInflatedBytes) {
      throw entryFail("TOO_LARGE", `declares ${formatCount(entry.size)} inflated bytes, above the limit maxInflatedBytes = ${formatCount(resolved.maxInflatedBytes)}.`, { expected: resolved.maxInflatedBytes, actual: entry.size });
    }
    const name = entry.name.slice(0, -4);
    if (arrays.some((a) => a.input.name === name)) throw entryFail("BAD_HEADER", `names input ${quoteName(name)} a second time.`);
    const read = entry.method === 0 ? storedReader(source, entry) : inflatingReader(source, entry);
    const header = await readHeader(read, entry.size, entryFail);
    const array = sampleArray(header, name, read, entryFail);
    checkDataLength(entry.size - header.dataOffset, array, header);
    if (arrays.length > 0 && array.count !== arrays[0].count) {
      throw entryFail("BAD_SHAPE", `input ${quoteName(name)} has ${formatCount(array.count)} samples but input ${quoteName(arrays[0].input.name)} has ${formatCount(arrays[0].count)}; every input needs one entry per sample.`, { expected: arrays[0].count, actual: array.count });
    }
    arrays.push(array);
  }
  return arraysSource(arrays);
}

function storedReader(source: ByteSource, entry: ZipEntry): ReadAt {
  return (offset, dest) => source.readInto(entry.dataOffset + offset, dest);
}

/**
 * Reads of a deflated entry's inflated bytes through one forward-moving inflation: batches read
 * in order cost one inflation of the entry in all. Reads are queued (one stream, one position).
 */
function inflatingReader(source: ByteSource, entry: ZipEntry): ReadAt {
  const region = { start: entry.dataOffset, length: entry.compressedSize, size: entry.size, crc32: entry.crc32 };
  let stream: AsyncGenerator<Uint8Array> | undefined;
  /** Inflated offset of the first byte of `pending`. */
  let position = 0;
  let pending: Uint8Array = new Uint8Array(0);
  const readAt = async (offset: number, dest: Uint8Array) => {
    if (!stream || offset < position) {
      await stream?.return(undefined);
      stream = inflateChunks(source, region, offset, entry.size - offset, entry.name);
      position = offset;
      pending = new Uint8Array(0);
    }
    let filled = 0;
    while (filled < dest.byteLength) {
      if (pending.byteLength === 0) {
        const next = await stream.next();
        if (next.done) throw new CntError("TRUNCATED", `Inputs '${source.name}' entry ${quoteName(entry.name)}: inflated bytes up to ${formatCount(offset + dest.byteLength)} were asked for, but it ends at ${formatCount(position)}.`, { file: source.name, tensor: entry.name });
        pending = next.value;
      }
      const skip = Math.min(Math.max(0, offset + filled - position), pending.byteLength);
      pending = pending.subarray(skip);
      position += skip;
      const take = Math.min(pending.byteLength, dest.byteLength - filled);
      dest.set(pending.subarray(0, take), filled);
      pending = pending.subarray(take);
      position += take;
      filled += take;
    }
  };
  let queue: Promise<void> = Promise.resolve();
  return (offset, dest) => {
    const run = queue.then(() => readAt(offset, dest));
    queue = run.catch(async () => {
      // A failed read leaves the stream at an unknown place: the next one starts afresh.
      await stream?.return(undefined).catch(() => undefined);
      stream = undefined;
    });
    return run;
  };
}
