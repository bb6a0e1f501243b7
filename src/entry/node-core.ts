// The core entry as Node resolves it: the same API, with the wasm read from disk (Node 20's
// fetch cannot read file: URLs).
import { readFile } from "node:fs/promises";
import { setDefaultWasmProvider } from "../kernels/load.js";

setDefaultWasmProvider(() => readWasmBeside(import.meta.url));

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
