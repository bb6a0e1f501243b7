import { CntError, type CntErrorCode } from "../errors.js";

/** Node's errno codes a user can act on, with the words that say what to do. */
const CODES: Record<string, { code: CntErrorCode; says: string }> = {
  ENOENT: { code: "NOT_FOUND", says: "no such file or folder" },
  ENOTDIR: { code: "NOT_FOUND", says: "a part of the path is not a folder" },
  EACCES: { code: "PERMISSION", says: "permission denied" },
  EPERM: { code: "PERMISSION", says: "operation not permitted" },
  EROFS: { code: "PERMISSION", says: "the file system is read-only" },
  EISDIR: { code: "BAD_OPTION", says: "it is a folder, not a file" },
  ENOSPC: { code: "FILE_SYSTEM", says: "no space left on the device" },
  EDQUOT: { code: "FILE_SYSTEM", says: "the disk quota is used up" },
  EMFILE: { code: "FILE_SYSTEM", says: "too many open files" },
  ENAMETOOLONG: { code: "BAD_OPTION", says: "the file name is too long" },
  ELOOP: { code: "BAD_OPTION", says: "too many levels of symbolic links" },
  EXDEV: { code: "FILE_SYSTEM", says: "the temporary file and the target are on different devices" },
};

/**
 * A file system error as a CntError whose code says what went wrong (NOT_FOUND, PERMISSION,
 * FILE_SYSTEM), so the CLI exits 2 with a sentence instead of 1 with `INTERNAL: ENOENT`.
 * @example
 *   try { await open(path) } catch (e) { throw fileSystemError(e, `Cannot open '${path}'`, path) }
 */
export function fileSystemError(error: unknown, doing: string, file: string): CntError {
  if (error instanceof CntError) return error;
  const errno = (error as NodeJS.ErrnoException)?.code;
  const known = errno === undefined ? undefined : CODES[errno];
  if (known) return new CntError(known.code, `${doing}: ${known.says} (${errno}).`, { file, cause: error });
  const text = error instanceof Error ? error.message : String(error);
  return new CntError("FILE_SYSTEM", `${doing}: ${text}.`, { file, cause: error });
}
