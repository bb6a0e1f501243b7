/**
 * Helpers for the headless-Chromium test: keep dist/ fresh, serve it (and the fixtures) from a
 * tiny loopback HTTP server, launch Chromium, and bound every step with a timeout.
 * Nothing here touches the network beyond 127.0.0.1.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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
  const outputs = [wasm];
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

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** A page in headless Chromium whose console, errors and failed requests are kept for messages. */
export interface LoggedPage {
  browser: Browser;
  page: Page;
  /** The page's log and the server's, to append to a failure message. */
  why: () => string;
}

/** Launch Chromium (failing with a clear message when it cannot start) and open a logged page. */
export async function launchLoggedPage(server: StaticServer): Promise<LoggedPage> {
  let browser: Browser;
  try {
    browser = await withTimeout(chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: STEP_MS }), "Launching Chromium");
  } catch (error) {
    throw new Error(`Chromium could not be launched from ${CHROMIUM_PATH} with playwright-core; this test needs a working headless Chromium.\n${String(error)}`);
  }
  const page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  const pageLog: string[] = [];
  page.on("console", (message) => pageLog.push(`console.${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => pageLog.push(`pageerror: ${error.stack ?? error.message}`));
  page.on("requestfailed", (request) => pageLog.push(`requestfailed: ${request.url()} ${request.failure()?.errorText ?? ""}`));
  const why = () => `\npage log:\n  ${pageLog.join("\n  ") || "(empty)"}\nserver log:\n  ${server.log.join("\n  ") || "(empty)"}`;
  return { browser, page, why };
}
