import { lstat, realpath } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { CntError, quoteName } from "../errors.js";
import { checkRelativePath } from "../source/paths.js";

/**
 * Resolve a file named by a model file relative to its folder, refusing anything that ends
 * outside that folder once symlinks are resolved, and anything but a regular file with a single
 * link (ONNX CVE-2026-27489 symlinked parents, CVE-2026-34446 hard links).
 */
export async function resolveSibling(modelPath: string, relativePath: string): Promise<string> {
  const segments = checkRelativePath(relativePath, modelPath);
  const folder = await realpath(dirname(modelPath));
  const target = join(folder, ...segments);
  let real: string;
  try {
    real = await realpath(target);
  } catch (error) {
    throw new CntError("TRUNCATED", `${quoteName(modelPath)} refers to ${quoteName(relativePath)}, which does not exist beside it.`, { file: modelPath, cause: error });
  }
  if (real !== folder && !real.startsWith(folder + sep)) {
    throw new CntError("UNSAFE_PATH", `${quoteName(modelPath)} refers to ${quoteName(relativePath)}, which resolves outside the model's folder.`, { file: modelPath });
  }
  const stat = await lstat(real);
  if (!stat.isFile()) throw new CntError("UNSAFE_PATH", `${quoteName(relativePath)} (named by ${quoteName(modelPath)}) is not a regular file.`, { file: modelPath });
  if (stat.nlink > 1) throw new CntError("UNSAFE_PATH", `${quoteName(relativePath)} (named by ${quoteName(modelPath)}) has ${stat.nlink} hard links; refusing a file that may be linked from elsewhere.`, { file: modelPath });
  return real;
}
