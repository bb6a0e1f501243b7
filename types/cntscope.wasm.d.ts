// Types of the `cntscope/cntscope.wasm` subpath. Edge runtimes and bundlers that import `.wasm`
// files (workerd/wrangler, Vercel Edge with `?module`) give a compiled WebAssembly.Module, which
// init() takes: `import wasm from "cntscope/cntscope.wasm"; await init(wasm);`.
declare const wasm: WebAssembly.Module;
export default wasm;
