// The CLI as an esbuild bundle in dist/bin/: `bin` and `npm start` run dist/bin/cntscope.js.
//
// Why: Node 20 loads ES modules one file at a time (resolve, read, compile: about 0.6 ms of CPU a
// module) and keeps no compile cache, so the unbundled CLI (dist/cli/main.js, still built by tsc
// and still working) spent most of an `analyze` of the bundled model loading 108 modules.
//
// How the chunks are cut. esbuild puts each module into the chunk of the set of entries that reach
// it: the bin, the worker threads and every `import()` (readers, commands, the forward pass, which
// stay lazy). The modules every run loads (what main.ts reaches by static imports: the "core")
// would be spread over some twenty shared chunks, one per set. Pass 1 lists the core; in pass 2
// every other module of src/ imports all of it too (a plugin appends the imports as esbuild loads
// the file), which gives the core one set and so one chunk. Nothing changes at run time: every
// module that can run does so after main.ts has loaded the core. An `analyze` of a safetensors
// file then loads 3 files: the bin, the core and the reader's stub.
//
// The worker threads are entries beside the bin (src/node/parallel.ts and the others start
// `./measure-worker.js` etc. next to their own chunk), and the wasm files are read from dist/, one
// folder up, as from every other dist/ folder (src/entry/node-setup.ts readWasmBeside).
import { build } from "esbuild";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const out = join(root, "dist", "bin");
const main = join(src, "cli", "main.ts");

const options = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // flatbuffers (the one dependency) is installed beside the package; only the .cnt code uses it.
  packages: "external",
  // package.json's sideEffects names dist/entry/*.js, the built files; here esbuild sees their
  // sources, and would drop `import "../entry/node-setup.js"` (it sets where the wasm comes from).
  ignoreAnnotations: true,
  // A third of the start-up's module compile is reading the text: minified, 0.6 of the bytes.
  minify: true,
  legalComments: "none",
  logLevel: "warning",
};

// Pass 1: the core, what main.ts loads before any import(); and the safetensors reader with what
// it imports (the bundled model's format and the Hugging Face one: 6 lazy files for 25 KB).
const safetensors = join(src, "formats", "safetensors", "read.ts");
const targets = new Set();
const lazy = {
  name: "lazy",
  setup: (b) =>
    b.onResolve({ filter: /.*/ }, (a) => {
      if (a.kind !== "dynamic-import") return undefined;
      targets.add(join(a.resolveDir, a.path).replace(/\.js$/, ".ts"));
      return { path: a.path, external: true };
    }),
};
const first = await build({ ...options, entryPoints: [main, safetensors], write: false, outdir: out, metafile: true, plugins: [lazy] });
const core = Object.keys(first.metafile.inputs).map((f) => join(root, f)).filter((f) => f.startsWith(src + "/") && f !== main);
const coreSet = new Set(core);
const coreImports = "\n" + core.map((f) => `import ${JSON.stringify(f)};`).join("\n") + "\n";

// Pass 2: the bin, the worker threads and the lazy chunks. Every non-core module imports the core,
// and so do main.ts (the safetensors reader is not among its static imports) and the core modules
// that are also import() targets (the reader), whose entry would otherwise reach only part of it.
const importsCore = (path) => path.startsWith(src + "/") && (!coreSet.has(path) || path === main || targets.has(path));
const withCore = {
  name: "with-core",
  setup: (b) => b.onLoad({ filter: /\.ts$/ }, (a) => (importsCore(a.path) ? { contents: readFileSync(a.path, "utf8") + coreImports, loader: "ts" } : undefined)),
};
rmSync(out, { recursive: true, force: true });
const result = await build({
  ...options,
  entryPoints: {
    cntscope: main,
    "measure-worker": join(src, "node", "measure-worker.ts"),
    "band-worker": join(src, "node", "band-worker.ts"),
    "forward-worker": join(src, "node", "forward-worker.ts"),
    "population-worker": join(src, "node", "population-worker.ts"),
  },
  outdir: out,
  splitting: true,
  // Chunks beside the entries: `new URL("./measure-worker.js", import.meta.url)` and `../cntscope.wasm` resolve from any of them.
  chunkNames: "[name]-[hash]",
  metafile: true,
  plugins: [withCore],
});
const files = Object.values(result.metafile.outputs);
// The point of it all: the core in one chunk (a module left out would be a chunk of its own).
const coreChunks = files.filter((f) => Object.keys(f.inputs).some((i) => coreSet.has(join(root, i)) && f.inputs[i].bytesInOutput > 0));
if (coreChunks.length !== 1) throw new Error(`build-cli: the core is spread over ${coreChunks.length} chunks, not 1`);
console.log(`dist/bin: ${files.length} files, ${files.reduce((n, f) => n + f.bytes, 0).toLocaleString("en")} bytes; core ${core.length} modules`);
// For a look at what went where (esbuild's analyzer reads it): CNTSCOPE_BUILD_META=meta.json npm run build:cli
if (process.env.CNTSCOPE_BUILD_META) writeFileSync(process.env.CNTSCOPE_BUILD_META, JSON.stringify(result.metafile));
