/**
 * Helpers for the headless-Chromium test: keep dist/ fresh, serve it (and the fixtures) from a
 * tiny loopback HTTP server, launch Chromium, and bound every step with a timeout.
 * Nothing here touches the network beyond 127.0.0.1.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** Longest any single step (build, launch, page load, one analysis round) may take. */
export const STEP_MS = 60_000;

/** Reject with a clear message when `promise` does not settle within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, label: string, ms = STEP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function walk(dir: string, keep: (file: string) => boolean, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, keep, out);
    else if (keep(path)) out.push(path);
  }
  return out;
}

/**
 * Why dist/ does not reflect src/ and assembly/ (missing outputs, or inputs newer than the
 * oldest output), or undefined when it is fresh.
 */
export function distStaleness(): string | undefined {
  const wasm = join(ROOT, "dist", "cntscope.wasm");
  if (!existsSync(wasm)) return "dist/cntscope.wasm is missing";
  const sources = walk(join(ROOT, "src"), (f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
  const inputs = [...sources, ...walk(join(ROOT, "assembly"), () => true), join(ROOT, "asconfig.json"), join(ROOT, "tsconfig.json")];
  let newestInput = 0;
  let newestName = "";
  for (const f of inputs) {
    if (!existsSync(f)) continue;
    const t = statSync(f).mtimeMs;
    if (t > newestInput) [newestInput, newestName] = [t, f];
  }
  // The CLI's bundle (scripts/build-cli.mjs), which `bin` and `npm start` run.
  const bin = join(ROOT, "dist", "bin", "cntscope.js");
  if (!existsSync(bin)) return "dist/bin/cntscope.js is missing";
  if (statSync(join(ROOT, "scripts", "build-cli.mjs")).mtimeMs > statSync(bin).mtimeMs) return "scripts/build-cli.mjs is newer than dist/bin";
  const outputs = [wasm, bin];
  for (const src of sources) {
    const out = join(ROOT, "dist", relative(join(ROOT, "src"), src)).replace(/\.ts$/, ".js");
    if (!existsSync(out)) return `${relative(ROOT, out)} is missing`;
    outputs.push(out);
  }
  const oldestOutput = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return newestInput > oldestOutput ? `${relative(ROOT, newestName)} is newer than the build` : undefined;
}

/** Run `npm run build` when dist/ is missing or stale; returns what was done, throws with the build's output on failure. */
export function ensureBuilt(): string {
  const why = distStaleness();
  if (why === undefined) return "dist/ is fresh";
  const started = Date.now();
  const run = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8", timeout: 2 * STEP_MS, stdio: ["ignore", "pipe", "pipe"] });
  if (run.error || run.status !== 0) {
    const output = `${run.stdout ?? ""}\n${run.stderr ?? ""}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`npm run build failed (${why}; ${run.error?.message ?? `exit ${run.status}`}):\n${output}`);
  }
  return `rebuilt dist/ in ${Date.now() - started} ms (${why})`;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".safetensors": "application/octet-stream",
};

export interface StaticServer {
  origin: string;
  /** "METHOD path status content-type" of every request served, in order. */
  log: string[];
  close(): Promise<void>;
}

/**
 * Serve `pages` (exact paths to HTML text), `files` (exact paths to files on disk) and every file
 * under the `dirs` prefixes, on 127.0.0.1 at a random port. Anything else is a 404.
 */
export async function startServer(routes: { pages: Record<string, string>; files: Record<string, string>; dirs: Record<string, string> }): Promise<StaticServer> {
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    let status = 200;
    let type = "text/plain; charset=utf-8";
    let body: string | Buffer = "";
    try {
      const page = routes.pages[path];
      let file = routes.files[path];
      if (page === undefined && file === undefined) {
        for (const [prefix, dir] of Object.entries(routes.dirs)) {
          if (!path.startsWith(prefix)) continue;
          const candidate = resolve(dir, "." + sep + path.slice(prefix.length));
          if (candidate.startsWith(resolve(dir) + sep)) file = candidate;
        }
      }
      if (page !== undefined) {
        type = TYPES[".html"]!;
        body = page;
      } else if (file !== undefined && existsSync(file) && statSync(file).isFile()) {
        type = TYPES[extname(file)] ?? "application/octet-stream";
        body = readFileSync(file);
      } else {
        status = 404;
        body = `not found: ${path}`;
      }
    } catch (error) {
      status = 500;
      body = String(error);
    }
    log.push(`${req.method} ${path} ${status} ${type}`);
    res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await withTimeout(
    new Promise<void>((ok, fail) => {
      server.once("error", fail);
      server.listen(0, "127.0.0.1", () => ok());
    }),
    "Starting the HTTP server",
  );
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections(); // Chromium keeps connections alive
      }),
  };
}

/** The import-map target for the bare `flatbuffers` import: the package's ESM build, as its package.json names it. */
export function flatbuffersEsm(): { url: string; dir: string } {
  const pkgDir = join(ROOT, "node_modules", "flatbuffers");
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { module?: string };
  if (!pkg.module) throw new Error("node_modules/flatbuffers/package.json has no \"module\" (ESM) entry");
  const entry = join(pkgDir, pkg.module);
  if (!existsSync(entry)) throw new Error(`flatbuffers ESM entry ${relative(ROOT, entry)} is missing`);
  return { url: "/node_modules/flatbuffers/" + pkg.module.replace(/^\.\//, ""), dir: pkgDir };
}

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * Which Chromium the browser tests launch.
 *
 * A system Chromium when there is one: `CHROME_PATH` if set, else the first executable of
 * SYSTEM_CHROMIUM_PATHS. Otherwise the headless build shipped inside the `@sparticuz/chromium`
 * dev dependency (Linux x64), so `npm install && npm test` needs no browser from the system.
 *
 * CNTSCOPE_CHROMIUM picks one: `npm` forces the packaged build even where a system Chromium
 * exists (to test a machine without one), `system` forbids falling back to it; unset is `auto`.
 */
export const SYSTEM_CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/**
 * Flags of `@sparticuz/chromium`'s `args` we do not pass. They suit a serverless sandbox but
 * would make its Chromium behave unlike a user's: SharedArrayBuffer without cross-origin
 * isolation (the core could take a path no real page gets), no same-origin or mixed-content
 * checks, one process for everything. Its `--headless='shell'` gives way to ours.
 */
const NPM_CHROMIUM_DROPPED = ["--enable-features", "--disable-web-security", "--allow-running-insecure-content", "--single-process", "--headless"];

export interface ChromiumChoice {
  executablePath: string;
  args: string[];
  /** For messages: where it came from ("system", "CHROME_PATH", "@sparticuz/chromium 147.0.0"). */
  source: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `ours` plus each flag of `theirs` whose name (before "=") is neither in `ours` nor dropped. */
function mergeArgs(ours: string[], theirs: string[], dropped: string[]): string[] {
  const name = (flag: string) => flag.split("=")[0]!;
  const taken = new Set([...ours, ...dropped].map(name));
  return [...ours, ...theirs.filter((flag) => !taken.has(name(flag)))];
}

/**
 * The packaged Chromium, unpacked once per version into `<tmpdir>/cntscope-chromium-<version>/`.
 * The package itself unpacks into `<tmpdir>/chromium` and reuses whatever binary is there, of
 * any version, even one another process is still writing; so it unpacks into a fresh staging
 * folder (its tmpdir for the call) that is then renamed into place whole. When two processes
 * race, the first rename wins and the other's copy is removed.
 */
async function npmChromium(): Promise<ChromiumChoice> {
  const pkgDir = join(ROOT, "node_modules", "@sparticuz", "chromium");
  if (!existsSync(join(pkgDir, "package.json"))) {
    throw new Error("@sparticuz/chromium is not installed (it is a dev dependency: run npm install)");
  }
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`@sparticuz/chromium ships a Linux x64 build only, and this is ${process.platform} ${process.arch}`);
  }
  const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version: string };
  const { default: Sparticuz } = await import("@sparticuz/chromium");
  const source = `@sparticuz/chromium ${version}`;
  const dir = join(tmpdir(), `cntscope-chromium-${version}`);
  const executablePath = join(dir, "chromium");
  if (!isExecutable(executablePath)) {
    const staging = mkdtempSync(`${dir}.partial-`);
    const saved = process.env.TMPDIR;
    let unpacking: Promise<string>;
    // os.tmpdir() reads TMPDIR at each call; the package makes all its calls before its first await.
    process.env.TMPDIR = staging;
    try {
      unpacking = Sparticuz.executablePath(join(pkgDir, "bin"));
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    try {
      const unpacked = await withTimeout(unpacking, `Unpacking ${source}`, 2 * STEP_MS);
      if (unpacked !== join(staging, "chromium")) throw new Error(`${source} unpacked to ${unpacked}, not into ${staging}`);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    try {
      renameSync(staging, dir);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      if (!isExecutable(executablePath)) throw error;
    }
  }
  return { executablePath, args: mergeArgs(CHROMIUM_ARGS, Sparticuz.args, NPM_CHROMIUM_DROPPED), source };
}

let chosen: Promise<ChromiumChoice> | undefined;

/** The Chromium to launch (see SYSTEM_CHROMIUM_PATHS), chosen once per process. */
export function chooseChromium(): Promise<ChromiumChoice> {
  chosen ??= (async () => {
    const mode = process.env.CNTSCOPE_CHROMIUM || "auto";
    if (!["auto", "npm", "system"].includes(mode)) throw new Error(`CNTSCOPE_CHROMIUM is "${mode}"; use npm, system or leave it unset`);
    if (mode !== "npm") {
      const fromEnv = process.env.CHROME_PATH;
      if (fromEnv) {
        if (!isExecutable(fromEnv)) throw new Error(`CHROME_PATH is ${fromEnv}, which is not an executable file`);
        return { executablePath: fromEnv, args: CHROMIUM_ARGS, source: "CHROME_PATH" };
      }
      const found = SYSTEM_CHROMIUM_PATHS.find(isExecutable);
      if (found) return { executablePath: found, args: CHROMIUM_ARGS, source: "system" };
      if (mode === "system") throw new Error(`CNTSCOPE_CHROMIUM=system, but CHROME_PATH is unset and none of ${SYSTEM_CHROMIUM_PATHS.join(", ")} is executable`);
    }
    return npmChromium();
  })();
  return chosen;
}

/** A page in headless Chromium whose console, errors and failed requests are kept for messages. */
export interface LoggedPage {
  browser: Browser;
  page: Page;
  /** Which Chromium runs and how long finding (or unpacking) and launching it took. */
  chromium: string;
  /** The page's log and the server's, to append to a failure message. */
  why: () => string;
}

/** Launch Chromium (failing with a clear message when it cannot start) and open a logged page. */
export async function launchLoggedPage(server: StaticServer): Promise<LoggedPage> {
  let browser: Browser;
  let choice: ChromiumChoice | undefined;
  const t0 = Date.now();
  let t1 = t0;
  try {
    choice = await chooseChromium();
    t1 = Date.now();
    browser = await withTimeout(chromium.launch({ executablePath: choice.executablePath, args: choice.args, timeout: STEP_MS }), "Launching Chromium");
  } catch (error) {
    const what = choice ? `from ${choice.executablePath} (${choice.source})` : "(none found)";
    const hint = choice?.source.startsWith("@sparticuz/") ? " The packaged build needs the system's libnss3 (Debian: apt-get install libnss3)." : "";
    throw new Error(`Chromium could not be launched ${what} with playwright-core; this test needs a working headless Chromium: a system one (CHROME_PATH, or ${SYSTEM_CHROMIUM_PATHS.join(", ")}) or the @sparticuz/chromium dev dependency.${hint}\n${String(error)}`);
  }
  const chromiumNote = `Chromium ${browser.version()} from ${choice.executablePath} (${choice.source}; found in ${t1 - t0} ms, launched in ${Date.now() - t1} ms)`;
  const page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  const pageLog: string[] = [];
  page.on("console", (message) => pageLog.push(`console.${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => pageLog.push(`pageerror: ${error.stack ?? error.message}`));
  page.on("requestfailed", (request) => pageLog.push(`requestfailed: ${request.url()} ${request.failure()?.errorText ?? ""}`));
  const why = () => `\npage log:\n  ${pageLog.join("\n  ") || "(empty)"}\nserver log:\n  ${server.log.join("\n  ") || "(empty)"}`;
  return { browser, page, chromium: chromiumNote, why };
}
