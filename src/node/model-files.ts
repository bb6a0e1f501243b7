import { open, readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { DETECT_BYTES, READERS } from "../formats/registry.js";
import { fileSystemError } from "./fs-errors.js";

/**
 * The model files in a folder (not its subfolders), sorted by name: the files a reader
 * recognises by their first bytes, less the parts of multi-file models (shards a
 * `*.safetensors.index.json` names), which their index stands for.
 */
export async function modelFilesIn(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw fileSystemError(error, `Cannot list the folder '${dir}'`, dir);
  }
  const found: { path: string; id: string }[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    const id = await recognise(path);
    if (id) found.push({ path, id });
  }
  const parts = new Set<string>();
  for (const f of found) {
    if (f.id !== "safetensors-index") continue;
    try {
      const map = (JSON.parse(await readFile(f.path, "utf8")) as { weight_map?: Record<string, string> }).weight_map ?? {};
      for (const shard of Object.values(map)) parts.add(basename(String(shard)));
    } catch {
      // An index that does not parse is reported when it is analyzed, not here.
    }
  }
  return found.filter((f) => !parts.has(basename(f.path))).map((f) => f.path).sort();
}

async function recognise(path: string): Promise<string | undefined> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    const first = new Uint8Array(DETECT_BYTES);
    const { bytesRead } = await handle.read(first, 0, DETECT_BYTES, 0);
    return READERS.find((r) => r.detect(first.subarray(0, bytesRead)))?.id;
  } finally {
    await handle.close();
  }
}
