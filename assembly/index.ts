// The kernels the host calls. Every kernel works on a block the host placed in linear memory;
// none allocates (runtime stub): the host owns the layout (src/kernels/layout.ts).
export { statsOnly, statsRowsCols, statsOnlyF16, statsRowsColsF16, statsOnlyBF16, statsRowsColsBF16 } from "./moments";
export { statsOnlyF64, statsRowsColsF64 } from "./moments64";
export { histogramUniform, histogramUniformF16, histogramUniformBF16, histogramUniformF64, histogramEdges, histogramEdgesF64, histogramFine } from "./histogram";
export { widenF16, widenBF16, narrowF64 } from "./widen";
export { convTapSums, convTapSumsF64, separableMaps } from "./conv";
export { dequantQ8_0, dequantQ4_0, dequantQ4_1, dequantQ5_0, dequantQ5_1, dequantQ4_K, dequantQ5_K, dequantQ6_K, dequantQ2_K, dequantQ3_K } from "./dequant";

/** First byte the host may use: everything below is the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
export { setScratch, scratchBytes } from "./scratch";
// Forward-pass kernels (spec metrics.md section 3), one file per family.
export * from "./forward/gemm";
export * from "./forward/activation";
export * from "./forward/conv";
export * from "./forward/pool";
export * from "./forward/recurrent";
export * from "./forward/norm";
export * from "./forward/elementwise";
export * from "./forward/node-stats";
