import { closeSync, constants, fstatSync, openSync, read, type Stats } from "node:fs";
import { lstat, open, realpath, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import { CntError, quoteName } from "../errors.js";
import { checkRelativePath } from "../source/paths.js";
import { fileSystemError } from "./fs-errors.js";

import type { SiblingPolicy } from "./sibling-policy.js";

export type { SiblingPolicy };

/**
 * Resolve a file named by a model file relative to its folder. The guarantee: a model's names
 * never reach outside what the user pointed at. Refused: anything that ends outside that folder
 * once symlinks are resolved, and anything but a regular file with a single link (ONNX
 * CVE-2026-27489 symlinked parents, CVE-2026-34446 hard links). Two layouts that real tools make
 * are kept inside the guarantee:
 *   - a Hugging Face cache, `<repo>/snapshots/<revision>/<file>` -> `../../blobs/<hash>`: a
 *     symlink from a snapshot may end in the same repository's `blobs/`;
 *   - a pnpm virtual store (`node_modules/.pnpm/...`), whose files are hard links into pnpm's
 *     content store: hard links are accepted there.
 * `followLinks` lifts both checks (CLI --follow-links); names are still plain relative paths.
 */
export async function resolveSibling(modelPath: string, relativePath: string, policy: SiblingPolicy = {}): Promise<string> {
  return (await resolveChecked(modelPath, relativePath, policy)).real;
}

/** What the sibling readers use of an open file: positioned reads and close (a FileHandle is one). */
export type ReadHandle = Pick<FileHandle, "read" | "close">;

/** A sibling file opened under resolveSibling's guarantee: its real path, its handle and the handle's stat. */
export interface OpenedSibling {
  real: string;
  handle: ReadHandle;
  stat: Stats;
}

/**
 * Open a sibling file under resolveSibling's guarantee, in as few trips to the thread pool as
 * the name allows. `folder` is the model's folder with links resolved (realpath of its dirname),
 * which the caller computes once per model. A plain name in that folder is opened with
 * O_NOFOLLOW | O_NONBLOCK and checked on the descriptor (fstat: a regular file, one link), and
 * nothing can be swapped between the check and the open. Those two calls (and the close) are
 * made on this thread, no trip at all: each is a few microseconds, where a trip to the pool cost
 * 30-130 us of CPU on a busy two-core machine, and a TF.js model opens one file per 4 MB (33
 * shards made its analysis 1.10x its safetensors twin's CPU, 1.00x with the files held open).
 * Reads still go through the pool. A name that is a link (the Hugging Face cache) or has folders
 * in it takes resolveSibling's way, and the handle is checked to be the file that was resolved.
 * O_NONBLOCK keeps a FIFO from blocking the open; it changes nothing for a regular file.
 */
export async function openSibling(modelPath: string, relativePath: string, folder: string, policy: SiblingPolicy = {}): Promise<OpenedSibling> {
  const segments = checkRelativePath(relativePath, modelPath);
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;
  if (segments.length === 1 && !policy.followLinks && O_NOFOLLOW !== undefined && O_NONBLOCK !== undefined) {
    const real = join(folder, segments[0]);
    let fd: number | undefined;
    try {
      fd = openSync(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno === "ENOENT") throw missing(modelPath, relativePath, error);
      // ELOOP: the name is a symbolic link; resolveSibling decides where it may lead.
      if (errno !== "ELOOP") throw fileSystemError(error, `Cannot open ${quoteName(relativePath)} beside ${quoteName(modelPath)}`, modelPath);
    }
    if (fd !== undefined) {
      let stat: Stats;
      try {
        stat = fstatSync(fd);
        checkFile(stat, modelPath, relativePath, policy, folder);
      } catch (error) {
        closeSync(fd);
        throw fileSystemError(error, `Cannot read ${quoteName(relativePath)} beside ${quoteName(modelPath)}`, modelPath);
      }
      return { real, handle: descriptorHandle(fd), stat };
    }
  }
  const { real, stat: resolved } = await resolveChecked(modelPath, relativePath, policy, folder);
  let handle: FileHandle;
  try {
    handle = await open(real, O_RDONLY | (O_NONBLOCK ?? 0));
  } catch (error) {
    throw fileSystemError(error, `Cannot open ${quoteName(relativePath)} beside ${quoteName(modelPath)}`, modelPath);
  }
  const stat = await checkedStat(handle, modelPath, relativePath, policy, folder);
  if (stat.ino !== resolved.ino || stat.dev !== resolved.dev) {
    await handle.close();
    throw new CntError("UNSAFE_PATH", `${quoteName(relativePath)} (named by ${quoteName(modelPath)}) changed while it was being opened.`, { file: modelPath });
  }
  return { real, handle, stat };
}

/**
 * A ReadHandle over a descriptor opened here: reads on libuv's thread pool as a FileHandle's are,
 * close at once (the descriptor is ours alone; closing is no wait).
 */
function descriptorHandle(fd: number): ReadHandle {
  let open = true;
  return {
    read: ((buffer: Uint8Array, offset: number, length: number, position: number) =>
      new Promise<{ bytesRead: number; buffer: Uint8Array }>((resolve, reject) => read(fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve({ bytesRead, buffer }))))) as unknown as ReadHandle["read"],
    async close() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/** The handle's stat, or UNSAFE_PATH (the handle closed) when it is not a regular file with one link. */
async function checkedStat(handle: FileHandle, modelPath: string, relativePath: string, policy: SiblingPolicy, folder: string): Promise<Stats> {
  let stat: Stats;
  try {
    stat = await handle.stat();
    checkFile(stat, modelPath, relativePath, policy, folder);
  } catch (error) {
    await handle.close();
    throw fileSystemError(error, `Cannot read ${quoteName(relativePath)} beside ${quoteName(modelPath)}`, modelPath);
  }
  return stat;
}

function missing(modelPath: string, relativePath: string, cause: unknown): CntError {
  return new CntError("TRUNCATED", `${quoteName(modelPath)} refers to ${quoteName(relativePath)}, which does not exist beside it.`, { file: modelPath, cause });
}

const LINKS_HINT = " (pass --follow-links, API followLinks: true, if you trust the folder's links)";

/** A regular file, and one with a single link unless the policy or a pnpm store allows more. */
function checkFile(stat: Stats, modelPath: string, relativePath: string, policy: SiblingPolicy, folder: string): void {
  if (!stat.isFile()) throw new CntError("UNSAFE_PATH", `${quoteName(relativePath)} (named by ${quoteName(modelPath)}) is not a regular file.`, { file: modelPath });
  if (stat.nlink > 1 && !policy.followLinks && !inPnpmStore(folder)) {
    throw new CntError("UNSAFE_PATH", `${quoteName(relativePath)} (named by ${quoteName(modelPath)}) has ${stat.nlink} hard links; refusing a file that may be linked from elsewhere${LINKS_HINT}.`, { file: modelPath });
  }
}

async function resolveChecked(modelPath: string, relativePath: string, policy: SiblingPolicy, knownFolder?: string): Promise<{ real: string; stat: Stats }> {
  const segments = checkRelativePath(relativePath, modelPath);
  const folder = knownFolder ?? (await realpath(dirname(modelPath)));
  const target = join(folder, ...segments);
  let real: string;
  try {
    real = await realpath(target);
  } catch (error) {
    throw missing(modelPath, relativePath, error);
  }
  if (!policy.followLinks && !inside(real, folder) && !inside(real, cacheBlobs(folder) ?? "\0")) {
    throw new CntError("UNSAFE_PATH", `${quoteName(modelPath)} refers to ${quoteName(relativePath)}, which resolves outside the model's folder${LINKS_HINT}.`, { file: modelPath });
  }
  const stat = await lstat(real);
  checkFile(stat, modelPath, relativePath, policy, folder);
  return { real, stat };
}

function inside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder + sep);
}

/** `<repo>/blobs` when `folder` is `<repo>/snapshots/<revision>` of a Hugging Face cache, else undefined. */
function cacheBlobs(folder: string): string | undefined {
  const snapshots = dirname(folder);
  return basename(snapshots) === "snapshots" ? join(dirname(snapshots), "blobs") : undefined;
}

function inPnpmStore(folder: string): boolean {
  return folder.split(sep).some((part, i, parts) => part === ".pnpm" && parts[i - 1] === "node_modules");
}
