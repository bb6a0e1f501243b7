import { randomBytes } from "node:crypto";
import { open, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { callError } from "../analyze.js";
import { convertToCnt } from "../convert.js";
import { CntError, quoteName } from "../errors.js";
import type { AnalyzeOptions } from "../options.js";
import { fileSource } from "./file-source.js";
import { fileSystemError } from "./fs-errors.js";

export interface ConvertFileOptions extends Pick<AnalyzeOptions, "limits" | "blockBytes" | "signal" | "onProgress"> {
  /** Replace an existing output file (never the input itself). Default false: OUTPUT_EXISTS. */
  force?: boolean;
  /** As analyzeFile's: open sibling files wherever their links lead. */
  followLinks?: boolean;
}

/**
 * Convert a model file to `.cnt` without ever destroying data: the output is written to a
 * temporary file beside it and renamed over the target only when complete and flushed to disk,
 * so an error or Ctrl-C (abort the signal) leaves the target as it was and no partial file. The
 * input itself (same path, hard or symbolic link: same inode) is refused even with `force`; an
 * existing output needs `force`.
 * @example
 *   import { convertFile } from "cntscope/node";
 *   const { bytes } = await convertFile("model.safetensors", "model.cnt");
 */
export async function convertFile(input: string, output: string, options: ConvertFileOptions = {}): Promise<{ bytes: number }> {
  const { force = false, followLinks = false, ...convertOptions } = options;
  let source: Awaited<ReturnType<typeof fileSource>>;
  try {
    source = await fileSource(input, { followLinks });
  } catch (error) {
    throw callError(error, options.signal, "Converting", input);
  }
  try {
    await checkTarget(input, output, force);
  } catch (error) {
    await source.close().catch(() => undefined);
    throw callError(error, options.signal, "Converting", input);
  }
  const temporary = join(dirname(output), `.${basename(output)}.${randomBytes(6).toString("hex")}.partial`);
  let handle: FileHandle | undefined;
  let bytes = 0;
  try {
    try {
      handle = await open(temporary, "wx", 0o644);
    } catch (error) {
      throw fileSystemError(error, `Cannot write the output ${quoteName(output)}`, output);
    }
    for await (const chunk of convertToCnt(source, convertOptions)) {
      for (let at = 0; at < chunk.byteLength; ) at += (await writeChunk(handle, chunk.subarray(at), output)).bytesWritten;
      bytes += chunk.byteLength;
    }
    await handle.datasync().catch((error) => { throw fileSystemError(error, `Cannot flush the output ${quoteName(output)}`, output); });
    await handle.close();
    handle = undefined;
    // The last check before replacing: a target created meanwhile is not overwritten without force.
    await checkTarget(input, output, force);
    await rename(temporary, output).catch((error) => { throw fileSystemError(error, `Cannot move the finished output into place at ${quoteName(output)}`, output); });
    return { bytes };
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw callError(error, options.signal, "Converting", input);
  }
}

async function writeChunk(handle: FileHandle, chunk: Uint8Array, output: string) {
  try {
    return await handle.write(chunk);
  } catch (error) {
    throw fileSystemError(error, `Cannot write the output ${quoteName(output)}`, output);
  }
}

/** The output must not be the input (by inode, so links count) and must not exist unless forced. */
async function checkTarget(input: string, output: string, force: boolean): Promise<void> {
  const [from, to] = await Promise.all([stat(input), stat(output).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw fileSystemError(error, `Cannot check the output ${quoteName(output)}`, output);
  })]);
  if (!to) return;
  if (to.dev === from.dev && to.ino === from.ino) {
    throw new CntError("SAME_FILE", `The output ${quoteName(output)} is the input ${quoteName(input)} itself; converting a file onto itself would destroy it. Name another output.`, { file: input });
  }
  if (to.isDirectory()) throw new CntError("BAD_OPTION", `The output ${quoteName(output)} is a folder; name a file, e.g. ${quoteName(join(output, basename(input).replace(/\.[^.]*$/, "") + ".cnt"))}.`, { file: output });
  if (!force) throw new CntError("OUTPUT_EXISTS", `The output ${quoteName(output)} exists; pass --force (API: force: true) to replace it.`, { file: output });
}
