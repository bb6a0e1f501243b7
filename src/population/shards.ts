/**
 * A population split over machines (job arrays: Slurm `--array`, Kubernetes indexed Jobs, GNU
 * parallel over hosts) and put back together.
 *
 * Split: every shard lists the same files, sorts them the same way, and takes those whose
 * position k in the sorted list has k mod n = i (shard i of n, i from 0). Taking every n-th file
 * rather than a contiguous range spreads files of one kind over all shards when names group them
 * (`resnet-*` before `vit-*`), so shards take about equally long.
 *
 * A shard file holds its networks' partials and the files that failed, with what the merge needs
 * to check that the shards are one whole: the split (i, n), the number of files in the whole list
 * and a fingerprint of it. Merging refuses a missing shard (SHARD_MISSING), the same shard or the
 * same network twice (SHARD_OVERLAP) and shards of another list, split or analysis options
 * (SHARD_MISMATCH), naming the files. A lone partial (one network, as a serverless function
 * writes it) merges too; only the overlap rule applies to it.
 *
 * The merged list of partials is the same as one run's (population() sorts by file), so the
 * outputs are the same bytes.
 */
import { CntError, type CntErrorCode } from "../errors.js";
import { csvText } from "../report/csv.js";
import { readPartial, type NetworkPartial } from "./partial.js";

/** Bumped when the shape changes; readShard refuses other versions. */
export const SHARD_VERSION = 1;

/** Shard `index` of `count` (index from 0). */
export interface ShardSpec {
  index: number;
  count: number;
}

/** A network that could not be analyzed: the population goes on without it (unless strict). */
export interface FailedFile {
  file: string;
  code: CntErrorCode | string;
  message: string;
}

export interface ShardFile {
  shard: typeof SHARD_VERSION;
  index: number;
  count: number;
  /** Files in the whole population (all shards). */
  total: number;
  /** Fingerprint of the whole sorted list of files (all shards), so shards of another list are refused. */
  list: string;
  /** This shard's files, in population order: those analyzed and those that failed. */
  files: string[];
  partials: NetworkPartial[];
  failed: FailedFile[];
}

/**
 * `--shard i/n` as given on a command line: i from 0 to n - 1.
 * @example
 *   parseShard(`${process.env.SLURM_ARRAY_TASK_ID}/8`); // { index: 3, count: 8 }
 */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || count > 1_000_000 || index >= count) {
    throw new CntError("BAD_OPTION", `Option --shard must be i/n with n from 1 to 1,000,000 and i from 0 to n - 1 (shard i of n, counted from 0: Slurm --array=0-7 gives i/8); got ${JSON.stringify(text.slice(0, 60))}.`);
  }
  return { index, count };
}

/** The items of shard i of n: positions k with k mod n = i, in order. */
export function shardItems<T>(items: readonly T[], spec: ShardSpec): T[] {
  return items.filter((_, k) => k % spec.count === spec.index);
}

/** How many of `total` files shard i of n takes. */
export function shardSize(total: number, spec: ShardSpec): number {
  return total > spec.index ? Math.floor((total - 1 - spec.index) / spec.count) + 1 : 0;
}

/**
 * A fingerprint of a list of names: two FNV-1a 32-bit hashes (different offsets) of the names
 * joined by NUL, as 16 hex digits. Not for security: it tells apart shards made from different lists.
 */
export function listFingerprint(names: readonly string[]): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (const name of names) {
    for (let i = 0; i <= name.length; i++) {
      const c = i < name.length ? name.charCodeAt(i) : 0;
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193);
      b ^= b >>> 13;
    }
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

/**
 * The shard file of shard `spec` over the whole sorted list `allFiles` (every shard's names).
 * @example
 *   const doc = toShard({ index: 0, count: 4 }, names, partials, failed);
 *   await writeFile("parts/part-0-of-4.json", JSON.stringify(doc));
 */
export function toShard(spec: ShardSpec, allFiles: readonly string[], partials: NetworkPartial[], failed: FailedFile[]): ShardFile {
  return { shard: SHARD_VERSION, index: spec.index, count: spec.count, total: allFiles.length, list: listFingerprint(allFiles), files: shardItems(allFiles, spec), partials, failed };
}

/** The file name a shard is written to by default: `part-<i>-of-<n>.json`. */
export function shardFileName(spec: ShardSpec): string {
  return `part-${spec.index}-of-${spec.count}.json`;
}

/**
 * A piece to merge, as read, with where it came from: a shard file, a lone partial, or lone
 * failures (`{"failed": [{file, code, message}]}`, as the example Worker answers for a model it
 * cannot read).
 */
export type MergePiece = { where: string; shard: ShardFile } | { where: string; partial: NetworkPartial } | { where: string; failed: FailedFile[] };

/**
 * A shard file, a lone partial or lone failures read back from JSON (text or parsed), checked
 * whole; BAD_PARTIAL naming `where` otherwise.
 */
export function readMergePiece(json: unknown, where: string): MergePiece {
  let value = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new CntError("BAD_PARTIAL", `${quoted(where)} is not JSON: ${(error as Error).message}.`, { file: where, cause: error });
    }
  }
  const bad = (what: string): never => {
    throw new CntError("BAD_PARTIAL", `Shard ${quoted(where)}: ${what}.`, { file: where });
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad("must be a JSON object (a shard file or a partial)");
  const v = value as Record<string, unknown>;
  const failures = (list: unknown): FailedFile[] => {
    if (!Array.isArray(list)) bad("failed must be a list");
    return (list as unknown[]).map((f, i) => {
      const row = f as Record<string, unknown>;
      if (typeof f !== "object" || f === null || typeof row.file !== "string" || typeof row.code !== "string" || typeof row.message !== "string") bad(`failed[${i}] must be {file, code, message}`);
      return { file: row.file as string, code: row.code as string, message: row.message as string };
    });
  };
  if (!("shard" in v) && !("partial" in v) && "failed" in v) return { where, failed: failures(v.failed) };
  if (!("shard" in v)) return { where, partial: readPartial(v, where) };
  if (v.shard !== SHARD_VERSION) bad(`shard must be ${SHARD_VERSION} (the shard format's version); got ${JSON.stringify(v.shard)?.slice(0, 40)}`);
  const whole = (x: unknown, name: string, min: number) => (Number.isSafeInteger(x) && (x as number) >= min ? (x as number) : bad(`${name} must be a whole number >= ${min}`));
  const count = whole(v.count, "count", 1);
  const index = whole(v.index, "index", 0);
  if (index >= count) bad(`index ${index} must be below count ${count}`);
  const total = whole(v.total, "total", 0);
  if (typeof v.list !== "string") bad("list must be text (the fingerprint of the whole list of files)");
  if (!Array.isArray(v.files) || v.files.some((f) => typeof f !== "string")) bad("files must be a list of names");
  if (!Array.isArray(v.partials)) bad("partials must be a list");
  const partials = (v.partials as unknown[]).map((p, i) => readPartial(p, `${where} (partials[${i}])`));
  const failed = failures(v.failed);
  const files = v.files as string[];
  const spec = { index, count };
  if (files.length !== shardSize(total, spec)) bad(`shard ${index} of ${count} over ${total} files must list ${shardSize(total, spec)} files; it lists ${files.length}`);
  const held = new Set([...partials.map((p) => p.file), ...failed.map((f) => f.file)]);
  const listed = new Set(files);
  if (held.size !== partials.length + failed.length) bad("holds a network twice");
  for (const file of held) if (!listed.has(file)) bad(`holds ${quoted(file)}, which its files do not list`);
  for (const file of files) if (!held.has(file)) bad(`lists ${quoted(file)} but holds neither its partial nor its failure`);
  return { where, shard: { shard: SHARD_VERSION, index, count, total, list: v.list as string, files, partials, failed } };
}

/** The analysis options that change a partial's numbers: shards must agree on them. */
function optionsKey(p: NetworkPartial): string {
  const o = p.report.options;
  return JSON.stringify([o.bias, o.gates, o.boundary, o.skip, o.bins, o.linkEdges ?? null]);
}

/**
 * The networks of all pieces, checked to be one whole population: every shard of the split
 * present once, no network twice, one list of files and one set of analysis options. The
 * partials and failures come back in population order (by file).
 * @example
 *   const { partials, failed } = mergePieces(pieces); // then population(partials, options)
 */
export function mergePieces(pieces: readonly MergePiece[]): { partials: NetworkPartial[]; failed: FailedFile[] } {
  if (pieces.length === 0) throw new CntError("SHARD_MISSING", "There is nothing to merge: no shard files or partials were given.");
  const shards = pieces.filter((p): p is Extract<MergePiece, { shard: ShardFile }> => "shard" in p);
  if (shards.length > 0) {
    const first = shards[0];
    for (const s of shards) {
      if (s.shard.count !== first.shard.count || s.shard.total !== first.shard.total || s.shard.list !== first.shard.list) {
        throw new CntError(
          "SHARD_MISMATCH",
          `Shards ${quoted(first.where)} and ${quoted(s.where)} come from different runs: shard ${first.shard.index} of ${first.shard.count} over ${first.shard.total} files (list ${first.shard.list}) against shard ${s.shard.index} of ${s.shard.count} over ${s.shard.total} files (list ${s.shard.list}). Merge the shards of one run, made from the same files with the same --shard i/n count.`,
          { file: s.where },
        );
      }
    }
    const byIndex = new Map<number, string>();
    for (const s of shards) {
      const other = byIndex.get(s.shard.index);
      if (other !== undefined) throw new CntError("SHARD_OVERLAP", `Shards ${quoted(other)} and ${quoted(s.where)} are both shard ${s.shard.index} of ${s.shard.count}; keep one.`, { file: s.where });
      byIndex.set(s.shard.index, s.where);
    }
    const missing: number[] = [];
    for (let i = 0; i < first.shard.count; i++) if (!byIndex.has(i)) missing.push(i);
    if (missing.length > 0) {
      const shown = missing.slice(0, 20).join(", ") + (missing.length > 20 ? `, ... (${missing.length} in all)` : "");
      throw new CntError("SHARD_MISSING", `Shard${missing.length > 1 ? "s" : ""} ${shown} of ${first.shard.count} ${missing.length > 1 ? "are" : "is"} missing (have ${byIndex.size}: ${shards.slice(0, 5).map((s) => quoted(s.where)).join(", ")}${shards.length > 5 ? ", ..." : ""}); run ${missing.length > 1 ? "them" : "it"} with --shard ${missing[0]}/${first.shard.count}${missing.length > 1 ? " and so on" : ""}.`);
    }
  }
  const partials: NetworkPartial[] = [];
  const failed: FailedFile[] = [];
  const whereOf = new Map<string, string>();
  let options: { key: string; where: string } | undefined;
  const take = (file: string, where: string) => {
    const other = whereOf.get(file);
    if (other !== undefined) throw new CntError("SHARD_OVERLAP", `Network ${quoted(file)} is in both ${quoted(other)} and ${quoted(where)}; a network must be merged once.`, { file: where });
    whereOf.set(file, where);
  };
  const add = (p: NetworkPartial, where: string) => {
    take(p.file, where);
    const key = optionsKey(p);
    if (options === undefined) options = { key, where };
    else if (key !== options.key) {
      throw new CntError("SHARD_MISMATCH", `${quoted(options.where)} and ${quoted(where)} were analyzed with different options (bias, gates, boundary, skip, bins, link edges: ${options.key} against ${key}); merge partials of one run.`, { file: where });
    }
    partials.push(p);
  };
  for (const piece of pieces) {
    if ("partial" in piece) add(piece.partial, piece.where);
    for (const p of "shard" in piece ? piece.shard.partials : []) add(p, piece.where);
    for (const f of "shard" in piece ? piece.shard.failed : "failed" in piece ? piece.failed : []) {
      take(f.file, piece.where);
      failed.push(f);
    }
  }
  const byFile = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  return { partials: partials.sort(byFile), failed: failed.sort(byFile) };
}

/** failed.csv: one row per network that could not be analyzed, with its error code and message. */
export function failedCsv(failed: readonly FailedFile[]): string {
  return `${csvText(["file", "code", "message"], failed.map((f) => [f.file, f.code, f.message]))}\n`;
}

function quoted(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
