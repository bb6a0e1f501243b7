import { CntError, quoteName, formatShape } from "../../../errors.js";
import type { ConvSumsRequest } from "../../../kernels/conv-tap-sums.js";
import type { LayerInfo, TensorInfo } from "../../../model/types.js";

/** A conv layer's kernel read from its stored layout: sizes, and how to reduce it per tap. */
export interface ConvKernel {
  cIn: number;
  cOut: number;
  kh: number;
  kw: number;
  groups: number;
  transposed: boolean;
  /** The spec's orientation of the kernel, for the report: [kh, kw, c_in/groups, c_out]. */
  specShape: number[];
  request: ConvSumsRequest;
  /**
   * Which reduction gives which sum: "B" is convTapSums' sumOverB ([A][K]), "A" its sumOverA.
   * intoOutputs[oc][tap] sums the weights entering output channel oc at each tap; outOfInputs[ic][tap]
   * the weights leaving input channel ic.
   */
  intoOutputs: "A" | "B";
  outOfInputs: "A" | "B";
}

const LAYOUTS = { conv: ["oihw", "hwio"], transposed: ["iohw", "hwoi"] } as const;

/** Read a conv kernel's sizes from its shape and layout (conventions in src/model/types.ts). */
export function convKernel(layer: LayerInfo, weight: TensorInfo): ConvKernel {
  const transposed = layer.kind === "conv2d_transpose";
  const rank = layer.kind === "conv1d" ? 3 : 4;
  const layout = layer.weightLayout ?? (transposed ? "iohw" : "oihw");
  const fail = (why: string) => new CntError("BAD_SHAPE", `Conv layer ${quoteName(layer.name)}: ${why}.`, { tensor: weight.name });
  if (!(transposed ? LAYOUTS.transposed : LAYOUTS.conv).includes(layout as never)) throw fail(`weight layout ${quoteName(layout)} is not one of ${(transposed ? LAYOUTS.transposed : LAYOUTS.conv).join(", ")}`);
  if (weight.shape.length !== rank) throw fail(`kernel ${quoteName(weight.name)} has shape ${formatShape(weight.shape)}, expected rank ${rank}`);
  const s = rank === 3 ? (layout.startsWith("hw") ? [1, ...weight.shape] : [...weight.shape.slice(0, 2), 1, weight.shape[2]]) : weight.shape;
  const groups = typeof layer.attributes?.groups === "number" ? layer.attributes.groups : 1;
  // First two axes of [A, B, K] or last two of [K, B, A]; A is split into groups.
  const tapMajor = layout.startsWith("hw");
  const [kh, kw] = tapMajor ? [s[0], s[1]] : [s[2], s[3]];
  const A = tapMajor ? s[3] : s[0];
  const B = tapMajor ? s[2] : s[1];
  let cIn: number, cOut: number;
  if (!transposed) {
    cOut = A;
    cIn = B * groups;
  } else if (layout === "iohw") {
    cIn = A;
    cOut = B * groups;
  } else {
    // Keras Conv2DTranspose [kh, kw, c_out, c_in]: no groups.
    if (groups !== 1) throw fail("a [kh, kw, c_out, c_in] transposed kernel cannot have groups");
    cIn = A;
    cOut = B;
  }
  if (A % groups !== 0) throw fail(`${A} channels do not split into ${groups} groups`);
  if (kh * kw * A * B >= 2 ** 31) {
    throw new CntError("TOO_LARGE", `Conv layer ${quoteName(layer.name)}: a kernel of ${(kh * kw * A * B).toLocaleString("en-US")} weights is beyond what the conv kernels index (2^31).`, { tensor: weight.name });
  }
  return {
    cIn,
    cOut,
    kh,
    kw,
    groups,
    transposed,
    specShape: transposed ? [kh, kw, cIn, cOut / groups] : [kh, kw, cIn / groups, cOut],
    request: { tapMajor, A, B, K: kh * kw, groups },
    // Forward: A is c_out, so summing over B (input channels) gives what enters each output.
    // Transposed: A is c_in, so summing over B (output channels) gives what leaves each input.
    intoOutputs: transposed ? "A" : "B",
    outOfInputs: transposed ? "B" : "A",
  };
}
