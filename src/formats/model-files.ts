import { DETECT_BYTES, READERS } from "./registry.js";

/** Larger "index" files are left to their reader, which says what is wrong with them. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

/** A file of a folder, however it is held (a path on disk, a dropped File). */
export interface FolderFile {
  /** The name within the folder (with subfolders joined by "/"). */
  name: string;
  size: number;
  /** Bytes [start, end) of the file (fewer at its end). */
  read(start: number, end: number): Promise<Uint8Array>;
}

/**
 * The model files among a folder's files, sorted by name: those a reader recognises by their
 * first bytes, less the parts of multi-file models (shards that a `*.safetensors.index.json`
 * names), which their index stands for. Sibling files (TF.js shards, ONNX external data) are
 * not recognised as models and stay beside them.
 */
export async function modelFiles(files: readonly FolderFile[]): Promise<string[]> {
  const found: { name: string; id: string }[] = [];
  for (const file of files) {
    if (file.name.split("/").some((part) => part.startsWith("."))) continue;
    const first = await file.read(0, Math.min(DETECT_BYTES, file.size)).catch(() => undefined);
    const id = first && READERS.find((r) => r.detect(first))?.id;
    if (id) found.push({ name: file.name, id });
  }
  const parts = new Set<string>();
  for (const f of found) {
    if (f.id !== "safetensors-index") continue;
    const index = files.find((file) => file.name === f.name)!;
    if (index.size > MAX_INDEX_BYTES) continue;
    try {
      const text = new TextDecoder().decode(await index.read(0, index.size));
      const map = (JSON.parse(text) as { weight_map?: Record<string, string> }).weight_map ?? {};
      const dir = f.name.includes("/") ? f.name.slice(0, f.name.lastIndexOf("/") + 1) : "";
      for (const shard of Object.values(map)) parts.add(dir + String(shard));
    } catch {
      // An index that does not parse is reported when it is analyzed, not here.
    }
  }
  return found.filter((f) => !parts.has(f.name)).map((f) => f.name).sort();
}
