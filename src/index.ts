// cntscope core: runs in browsers, edge workers, Deno, Bun and Node (no Node built-ins here).
export { analyze, inspect } from "./analyze.js";
export { init, type WasmSource } from "./kernels/load.js";
export { CntError, type CntErrorCode } from "./errors.js";
export type { AnalyzeOptions, Progress } from "./options.js";
export type { Report, LayerReport, NodeLayerReport, Distribution, PerNode, ReportOptions } from "./report/types.js";
export type { ModelInfo, LayerInfo, TensorInfo, LayerKind, DType } from "./model/types.js";
export type { ModelInput } from "./source/open.js";
export type { ByteSource } from "./source/types.js";
export { filesSource } from "./source/files.js";
export type { Limits } from "./model/limits.js";
export type { Layout, LayoutLayer } from "./graph/layout.js";
export { DEFAULT_LIMITS } from "./model/limits.js";
export { mergeMoments, type Moments } from "./measure/moments.js";
export { toJSON } from "./report/json.js";
export { jsonPieces } from "./report/json-text.js";
export { writeCnt, encodeCntHeader } from "./formats/cnt/write.js";
export { convertToCnt } from "./convert.js";
