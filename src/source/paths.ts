import { CntError, quoteName } from "../errors.js";

/**
 * Check a file name that a model file gives for another file (ONNX external_data.location,
 * TF.js weight paths, safetensors index shards): a plain relative path inside the model's
 * folder. Refused: absolute paths, drive letters, URLs, backslashes, NUL, empty segments and
 * any ".." segment (ONNX CVE-2022-25882 and its bypasses). Returns the normalised segments.
 */
export function checkRelativePath(name: string, from: string): string[] {
  const refuse = (why: string) =>
    new CntError("UNSAFE_PATH", `${quoteName(from)} refers to the file ${quoteName(name)}, which ${why}; only plain relative names inside the model's folder are opened.`, { file: from });
  if (name.length === 0) throw refuse("is empty");
  if (name.includes("\0")) throw refuse("contains a NUL byte");
  if (name.includes("\\")) throw refuse("contains a backslash");
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(name)) throw refuse("is a URL or has a drive letter");
  if (name.startsWith("/")) throw refuse("is an absolute path");
  const segments = name.split("/").filter((s) => s !== ".");
  if (segments.some((s) => s === "..")) throw refuse("leaves the folder with '..'");
  if (segments.some((s) => s === "")) throw refuse("has an empty path segment");
  return segments;
}
