import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { modelFiles, type FolderFile } from "../formats/model-files.js";
import { fileSystemError } from "./fs-errors.js";

/** The model files in a folder (not its subfolders), sorted by name (see modelFiles). */
export async function modelFilesIn(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw fileSystemError(error, `Cannot list the folder '${dir}'`, dir);
  }
  const files: FolderFile[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(dir, e.name);
    const size = (await stat(path).catch(() => undefined))?.size;
    if (size !== undefined) files.push({ name: e.name, size, read: (start, end) => readRange(path, start, end) });
  }
  return (await modelFiles(files)).map((name) => join(dir, name));
}

async function readRange(path: string, start: number, end: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const bytes = new Uint8Array(end - start);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, start);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
