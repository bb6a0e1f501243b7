// What the Node entries set up before any analysis, without the public API's barrel: the wasm is
// read from disk (Node 20's fetch cannot read file: URLs) and CRC-32 uses zlib's. The CLI and
// analyzeFile import this alone, so a run loads only the modules it uses (./node-core.ts adds
// `export * from "../index.js"` for library callers).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { setDefaultWasmProvider } from "../kernels/load.js";
import { crc32Final, crc32Update, setNativeCrc32 } from "../source/crc32.js";

setDefaultWasmProvider(() => readWasmBeside(import.meta.url));

// zlib.crc32 (Node 20.15 and later; older Nodes keep the portable one) is looked up on the first
// checksum (zip and .cnt entries), not at start-up: loading zlib's modules costs a few ms.
const require = createRequire(import.meta.url);
setNativeCrc32((bytes, previous) => {
  const zlibCrc32 = (require("node:zlib") as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  setNativeCrc32(zlibCrc32 ? (b, p) => zlibCrc32(b, p) : undefined);
  return crc32Final(crc32Update(crc32Final(previous), bytes));
});

/** The built wasm sits at dist/<file>; from sources (tests under tsx) look there too. */
export async function readWasmBeside(moduleUrl: string, file = "cntscope.wasm"): Promise<Uint8Array> {
  const candidates = [`../${file}`, `../../dist/${file}`].map((p) => new URL(p, moduleUrl));
  let lastError: unknown;
  for (const url of candidates) {
    try {
      return await readFile(url);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
