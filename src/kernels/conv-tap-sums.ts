/**
 * What the conv tap-sum kernel (assembly/conv.ts convTapSums) is asked for: the graph reads it
 * off a conv layer's kernel (graph/ops/conv/layer.ts), the measuring pass hands it to the kernel
 * (measure/tensor-pass.ts). It lives with the kernels' ABI so neither stage imports the other.
 */

/** A conv kernel read as axes A (in `groups` groups), B and K taps, in [A, B, K] or [K, B, A] order. */
export interface ConvSumsRequest {
  tapMajor: boolean;
  A: number;
  B: number;
  K: number;
  groups: number;
}
