// cntscope merge PARTS... -o out/: the shards of a population (`cntscope population --shard i/n`,
// one per job of an array) or a serverless fan-out's partials, put back together into the same
// files one machine's `cntscope population` writes.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CntError, formatCount } from "../errors.js";
import { fileSystemError } from "../node/fs-errors.js";
import { parseLabels } from "../population/labels.js";
import type { NetworkPartial } from "../population/partial.js";
import { population } from "../population/population.js";
import { mergePieces, readMergePiece, type FailedFile, type MergePiece } from "../population/shards.js";
import { quote } from "./flags.js";
import { writeLine } from "./output.js";
import { populationOptionsOf, writePopulation } from "./population.js";

type Flags = ReadonlyMap<string, string | true>;

/** The files to merge: each folder's `.json` files (not its subfolders), each file as given, in that order. */
export async function pieceFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (error) {
      throw fileSystemError(error, `Cannot read ${quote(path)}`, path);
    }
    if (!isDir) {
      files.push(path);
      continue;
    }
    const names = (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith(".json")).map((e) => e.name);
    if (names.length === 0) throw new CntError("SHARD_MISSING", `Folder ${quote(path)} holds no .json shard files or partials to merge.`, { file: path });
    files.push(...names.sort().map((name) => join(path, name)));
  }
  return files;
}

/**
 * Read and check every piece, then merge them into one population's partials and failures
 * (population order). --labels, when given, replaces each network's labels by its row.
 */
export async function mergedPartials(paths: readonly string[], flags: Flags): Promise<{ partials: NetworkPartial[]; failed: FailedFile[]; pieces: number }> {
  if (paths.length === 0) throw new CntError("BAD_OPTION", "cntscope merge needs shard files, partials or folders of them: cntscope merge parts/ -o out/.");
  const files = await pieceFiles(paths);
  const pieces: MergePiece[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw fileSystemError(error, `Cannot read ${quote(file)}`, file);
    }
    pieces.push(readMergePiece(text, file));
  }
  const { partials, failed } = mergePieces(pieces);
  const labelsPath = flags.get("labels");
  if (typeof labelsPath !== "string") return { partials, failed, pieces: pieces.length };
  let text: string;
  try {
    text = await readFile(labelsPath, "utf8");
  } catch (error) {
    throw fileSystemError(error, `Cannot read labels ${quote(labelsPath)}`, labelsPath);
  }
  const labels = parseLabels(text, labelsPath);
  return { partials: partials.map((p) => ({ ...p, labels: { ...(labels.rows.get(p.file) ?? {}) } })), failed, pieces: pieces.length };
}

/**
 * Runs the command: the population of the merged partials, written as `cntscope population`
 * writes it (the same files, byte for byte, as one run over the same networks and flags).
 */
export async function runMerge(paths: readonly string[], flags: Flags): Promise<void> {
  const options = populationOptionsOf(flags);
  const merged = await mergedPartials(paths, flags);
  if (merged.partials.length === 0) throw new CntError("BAD_OPTION", `The ${formatCount(merged.pieces)} files merged hold no analyzed network (${formatCount(merged.failed.length)} failed).`);
  if (!flags.has("quiet")) await writeLine(process.stderr, `merged ${formatCount(merged.partials.length)} networks (${formatCount(merged.failed.length)} failed) from ${formatCount(merged.pieces)} files`);
  await writePopulation(population(merged.partials, options), merged.failed, flags);
}
