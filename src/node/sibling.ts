import { lstat, realpath } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import { CntError, quoteName } from "../errors.js";
import { checkRelativePath } from "../source/paths.js";

export interface SiblingPolicy {
  /** Open sibling files wherever their links lead (the user vouches for the folder). Default false. */
  followLinks?: boolean;
}

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
  const segments = checkRelativePath(relativePath, modelPath);
  const folder = await realpath(dirname(modelPath));
  const target = join(folder, ...segments);
  let real: string;
  try {
    real = await realpath(target);
  } catch (error) {
    throw new CntError("TRUNCATED", `${quoteName(modelPath)} refers to ${quoteName(relativePath)}, which does not exist beside it.`, { file: modelPath, cause: error });
  }
  const hint = " (pass --follow-links, API followLinks: true, if you trust the folder's links)";
  if (!policy.followLinks && !inside(real, folder) && !inside(real, cacheBlobs(folder) ?? "\0")) {
    throw new CntError("UNSAFE_PATH", `${quoteName(modelPath)} refers to ${quoteName(relativePath)}, which resolves outside the model's folder${hint}.`, { file: modelPath });
  }
  const stat = await lstat(real);
  if (!stat.isFile()) throw new CntError("UNSAFE_PATH", `${quoteName(relativePath)} (named by ${quoteName(modelPath)}) is not a regular file.`, { file: modelPath });
  if (stat.nlink > 1 && !policy.followLinks && !inPnpmStore(folder)) {
    throw new CntError("UNSAFE_PATH", `${quoteName(relativePath)} (named by ${quoteName(modelPath)}) has ${stat.nlink} hard links; refusing a file that may be linked from elsewhere${hint}.`, { file: modelPath });
  }
  return real;
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
