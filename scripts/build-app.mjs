// The offline browser app as one static folder, dist/app/: the page and its worker bundled by
// esbuild (the core's one bare import, flatbuffers, included), the kernels and the HTML beside
// them. It runs from any static host, or `cntscope app` on localhost.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "app");
// Chunk names carry content hashes: a rebuild would leave the old chunks beside the new ones.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { page: join(root, "app", "page.ts"), worker: join(root, "app", "worker.ts") },
  outdir: out,
  bundle: true,
  // Readers load when a file of their format is opened, as in the library.
  splitting: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  logLevel: "warning",
  legalComments: "none",
  minify: true,
});
copyFileSync(join(root, "app", "index.html"), join(out, "index.html"));
copyFileSync(join(root, "dist", "cntscope.wasm"), join(out, "cntscope.wasm"));
