// The core entry as Node resolves it: the same API, with the wasm read from disk and zlib's
// CRC-32 (./node-setup.ts, which the CLI and analyzeFile import alone).
export { readWasmBeside } from "./node-setup.js";
export * from "../index.js";
