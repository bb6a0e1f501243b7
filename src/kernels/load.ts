import { CntError } from "../errors.js";

/**
 * Where the kernels' wasm comes from: a compiled Module (edge runtimes import `.wasm` files as
 * Modules and forbid compiling bytes), the bytes, or a URL to fetch them from.
 */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string | Response;

type WasmProvider = () => Promise<WasmSource>;

let provider: WasmProvider = async () => new URL("../cntscope.wasm", import.meta.url);
let modulePromise: Promise<WebAssembly.Module> | undefined;

/** Entries for one environment (Node, workerd) say where the default wasm comes from. */
export function setDefaultWasmProvider(next: WasmProvider): void {
  provider = next;
}

/**
 * Compile the kernels once; later calls return the same Module. Call it first with a Module
 * where bytes cannot be compiled at run time (Cloudflare Workers, Vercel Edge).
 * @example
 *   import wasm from "cntscope/cntscope.wasm"; // a WebAssembly.Module in workerd
 *   await init(wasm);
 */
export function init(source?: WasmSource): Promise<WebAssembly.Module> {
  if (source !== undefined && modulePromise === undefined) {
    modulePromise = compile(source);
  }
  modulePromise ??= provider().then(compile);
  modulePromise.catch(() => {
    modulePromise = undefined; // a failed load may be retried with another source
  });
  return modulePromise;
}

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  try {
    if (source instanceof WebAssembly.Module) return source;
    if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return await WebAssembly.compile(source as BufferSource);
    const response = source instanceof Response ? source : await fetch(source);
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${response.url}`);
    return await WebAssembly.compile(await response.arrayBuffer());
  } catch (error) {
    throw new CntError(
      "INTERNAL",
      `Could not load cntscope.wasm (${error instanceof Error ? error.message : String(error)}); pass it to init() as a WebAssembly.Module, bytes or URL.`,
      { cause: error },
    );
  }
}
