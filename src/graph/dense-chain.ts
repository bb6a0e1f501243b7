import { CntError, quoteName } from "../errors.js";

/** One dense layer as the chain needs it: its sums, oriented as the spec's W [n_in, n_out]. */
export interface DenseLink {
  name: string;
  nIn: number;
  nOut: number;
  /** Row sums of W: for each input node, the sum of its outgoing link weights. */
  outOfInputs: Float64Array;
  /** Column sums of W: for each output node, the sum of its incoming link weights (bias not included). */
  intoOutputs: Float64Array;
  /** Bias values b[j], when the layer has one. */
  bias?: Float64Array;
}

export interface NodeStrengths {
  after: string;
  sIn: Float64Array;
  sOut: Float64Array;
  s: Float64Array;
}

/**
 * Node strengths of a chain of dense layers (spec section 2): node layer 0 holds the inputs,
 * node layer l the outputs of layer l. s_out of a node is its row sum in the next layer's W;
 * s_in is its column sum in its own layer's W plus its bias under bias "in". Inputs have no
 * incoming links and outputs no outgoing ones: the boundary option gives them 1 ("unit", the
 * reference code's convention) or 0.
 */
export function denseChainStrengths(links: readonly DenseLink[], options: { bias: "in" | "ignore"; boundary: "unit" | "zero" }): NodeStrengths[] {
  const boundary = options.boundary === "unit" ? 1 : 0;
  for (let l = 1; l < links.length; l++) {
    if (links[l - 1].nOut !== links[l].nIn) {
      throw new CntError(
        "LAYOUT_NEEDED",
        `Layer ${quoteName(links[l - 1].name)} has ${links[l - 1].nOut} outputs but the next dense layer ${quoteName(links[l].name)} takes ${links[l].nIn} inputs, so they do not chain; pass a layout that says how the layers connect.`,
        { tensor: links[l].name, expected: links[l - 1].nOut, actual: links[l].nIn },
      );
    }
  }
  const layers: NodeStrengths[] = [];
  for (let l = 0; l <= links.length; l++) {
    const before = l > 0 ? links[l - 1] : undefined;
    const after = l < links.length ? links[l] : undefined;
    const size = before ? before.nOut : after!.nIn;
    const sIn = new Float64Array(size);
    const sOut = new Float64Array(size);
    if (before) {
      sIn.set(before.intoOutputs);
      if (options.bias === "in" && before.bias) for (let j = 0; j < size; j++) sIn[j] += before.bias[j];
    } else {
      sIn.fill(boundary);
    }
    if (after) sOut.set(after.outOfInputs);
    else sOut.fill(boundary);
    const s = new Float64Array(size);
    for (let j = 0; j < size; j++) s[j] = sIn[j] + sOut[j];
    layers.push({ after: before ? before.name : "input", sIn, sOut, s });
  }
  return layers;
}
