/**
 * The package as users get it: `npm pack` of the built repo, installed into an empty temporary
 * project, plus the small scripts every runtime runs there. Done once per test process (uvu
 * imports every test file into one process) and removed when the process exits.
 * Nothing here reaches past the npm cache and 127.0.0.1.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, ensureBuilt } from "../browser/harness.js";

export { ROOT };

/** The bundled model, as a path relative to the temporary project. */
export const MODEL = "node_modules/cntscope/models/digits-mlp.safetensors";

/** What each runtime runs: the README's "Use" section, against the installed package. */
const SMOKE = `// Analyze the bundled model through the installed package, as a user of this runtime would.
import { readFile } from "node:fs/promises";
import { analyze, toJSON } from "cntscope";
import { analyzeFile } from "cntscope/node";
const model = ${JSON.stringify(MODEL)};
const fromFile = await analyzeFile(model);
const fromBytes = await analyze(new Uint8Array(await readFile(model)));
const runtime = typeof Bun !== "undefined" ? "bun " + Bun.version : typeof Deno !== "undefined" ? "deno " + Deno.version.deno : "node " + process.versions.node;
const entry = import.meta.resolve("cntscope").replace(/^.*node_modules\\/cntscope\\//, "");
console.log(JSON.stringify({ runtime, entry, file: toJSON(fromFile), bytes: toJSON(fromBytes) }));
`;

/** The browser-safe core (the exports' "default" branch) by path, so the wasm is fetched beside it. */
const CORE = `import { readFile } from "node:fs/promises";
const { analyze, toJSON } = await import(new URL("./node_modules/cntscope/dist/index.js", import.meta.url).href);
const report = await analyze(new Uint8Array(await readFile(${JSON.stringify(MODEL)})));
console.log(JSON.stringify({ bytes: toJSON(report) }));
`;

export interface PackedFile {
  path: string;
  size: number;
}

export interface Packed {
  /** The temporary folder holding everything (removed at exit). */
  dir: string;
  tarball: string;
  /** The tarball's size in bytes and its entries, as `npm pack --json` reports them. */
  size: number;
  unpackedSize: number;
  files: PackedFile[];
  /** An empty project with only the tarball (and its dependency, flatbuffers) installed. */
  app: string;
  /** How dist/ was made fresh, and how long packing and installing took. */
  notes: string[];
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  error?: Error;
}

/** Run a command with a time bound (the child is killed past it); never throws. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Run {
  const started = performance.now();
  const r = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
    killSignal: "SIGKILL",
    input: options.input,
    maxBuffer: 1 << 26,
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", ms: performance.now() - started, error: r.error };
}

/** A one-line account of a failed run, for assertion messages. */
export function describe(label: string, r: Run): string {
  const tail = (s: string) => s.trim().split("\n").slice(-15).join("\n");
  return `${label} failed (${r.error?.message ?? `exit ${r.status}`}):\n${tail(r.stderr)}\n${tail(r.stdout)}`;
}

let packed: Packed | undefined;
const tempDirs: string[] = [];

process.once("exit", () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temporary folder removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Build if stale, pack, install the tarball into an empty project; once per process. */
export function installPacked(): Packed {
  if (packed) return packed;
  const notes = [ensureBuilt()];
  const dir = tempDir("cntscope-runtimes-");
  const packDir = join(dir, "pack");
  const app = join(dir, "app");
  mkdirSync(packDir);
  mkdirSync(app);

  // --ignore-scripts: `prepare` would rebuild; ensureBuilt() has just made dist/ fresh.
  const pack = run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", packDir], { cwd: ROOT });
  if (pack.status !== 0) throw new Error(describe("npm pack", pack));
  const [info] = JSON.parse(pack.stdout) as { filename: string; size: number; unpackedSize: number; files: PackedFile[] }[];
  if (!info) throw new Error(`npm pack printed no package: ${pack.stdout}`);
  const tarball = join(packDir, info.filename);
  notes.push(`packed ${info.filename} in ${Math.round(pack.ms)} ms`);

  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "cntscope-runtime-check", private: true, type: "module" }, null, 2));
  // flatbuffers (the one runtime dependency) comes from the npm cache; --offline is not used
  // because a cache without its registry metadata would then fail where a lookup would do.
  const install = run("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"], { cwd: app, timeoutMs: 120_000 });
  if (install.status !== 0) throw new Error(describe(`npm install ${info.filename}`, install));
  notes.push(`installed it into an empty project in ${Math.round(install.ms)} ms`);

  writeFileSync(join(app, "smoke.mjs"), SMOKE);
  writeFileSync(join(app, "core.mjs"), CORE);
  packed = { dir, tarball, size: info.size, unpackedSize: info.unpackedSize, files: info.files, app, notes };
  return packed;
}

export interface SmokeOutput {
  runtime: string;
  /** The file the runtime resolved "cntscope" to, inside the package. */
  entry: string;
  /** toJSON of analyzeFile(model) ("cntscope/node") and of analyze(bytes) ("cntscope"). */
  file: string;
  bytes: string;
}

/** Parse the smoke script's last line of output. */
export function parseSmoke(r: Run, label: string): SmokeOutput {
  if (r.status !== 0) throw new Error(describe(label, r));
  const last = r.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last) as SmokeOutput;
  } catch {
    throw new Error(`${label} printed no report:\n${r.stdout}\n${r.stderr}`);
  }
}

let nodeSmoke: SmokeOutput | undefined;

/** The smoke script's output under this Node (the reference every other runtime must match). */
export function nodeReports(): SmokeOutput {
  nodeSmoke ??= parseSmoke(run(process.execPath, ["smoke.mjs"], { cwd: installPacked().app }), "node smoke.mjs");
  return nodeSmoke;
}

/**
 * The binary of a runtime shipped as an npm devDependency. Its package's install script moves
 * the binary from the platform package into its own bin/ (when npm runs scripts); look in both.
 */
export function runtimeBinary(candidates: string[]): string | undefined {
  for (const relative of candidates) {
    const path = join(ROOT, "node_modules", relative);
    if (existsSync(path) && statSync(path).size > 1 << 20) return path; // not a placeholder script
  }
  return undefined;
}
