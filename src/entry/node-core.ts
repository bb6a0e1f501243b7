// The core entry as Node resolves it: the same API, with the wasm read from disk (Node 20's
// fetch cannot read file: URLs).
import { readFile } from "node:fs/promises";
import * as zlib from "node:zlib";
import { setDefaultWasmProvider } from "../kernels/load.js";
import { setNativeCrc32 } from "../source/crc32.js";

setDefaultWasmProvider(() => readWasmBeside(import.meta.url));
// zlib.crc32 arrived in Node 20.15; older Nodes keep the portable one.
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
if (zlibCrc32) setNativeCrc32((bytes, previous) => zlibCrc32(bytes, previous));

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

export * from "../index.js";
