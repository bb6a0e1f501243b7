import { createServer, type Server } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { CntError } from "../errors.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
};

/** The built app folder of this package (dist/app, made by scripts/build-app.mjs). */
export const APP_DIR = fileURLToPath(new URL("../app/", import.meta.url));

/**
 * Serve the offline app on 127.0.0.1 only (never another interface): the page does all its work
 * in the browser, so the server hands out the app's own files and nothing else.
 */
export async function serveApp(options: { port?: number; dir?: string } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const dir = resolve(options.dir ?? APP_DIR);
  if (!(await stat(resolve(dir, "index.html")).catch(() => undefined))) {
    throw new CntError("NOT_FOUND", `The app is not built: '${resolve(dir, "index.html")}' is missing (npm run build makes it).`, { file: dir });
  }
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    const file = resolve(dir, "." + sep + (path === "/" ? "index.html" : path));
    const inside = file.startsWith(dir + sep);
    const body = inside && (req.method === "GET" || req.method === "HEAD") ? await readFile(file).catch(() => undefined) : undefined;
    if (!body) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": body.length, "x-content-type-options": "nosniff" });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", (error) => fail(new CntError("BAD_OPTION", `Cannot serve the app on port ${options.port ?? 0}: ${(error as Error).message}.`)));
    server.listen(options.port ?? 0, "127.0.0.1", () => ok());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
