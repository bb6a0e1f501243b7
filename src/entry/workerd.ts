// The core entry as workerd bundlers resolve it (the "workerd" exports condition: wrangler,
// and esbuild or Vite set up like it). workerd refuses to compile wasm from bytes at run time
// ("Wasm code generation disallowed by embedder"), so the kernels come in as a module import,
// which the bundler's CompiledWasm rule hands to workerd to compile when it loads the Worker.
// With this entry `analyze()` works without calling `init()` first.
// @ts-expect-error -- tsc has no type for a .wasm import; in workerd it is a WebAssembly.Module.
import wasm from "../cntscope.wasm";
import { setDefaultWasmProvider } from "../kernels/load.js";

setDefaultWasmProvider(async () => wasm as WebAssembly.Module);

export * from "../index.js";
