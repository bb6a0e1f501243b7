/**
 * Einsum with a constant operand is a dense layer (spec metrics.md 1b, "Weighted ops"): the data
 * operand's last axis contracts with one axis of a 2-D weight, whose other axis becomes the
 * output's last axis, every other axis passing through in order (positions are replicas):
 *
 *   bij,jk->bik    bsh,hd->bsd    ...i,oi->...o    oi,...i->...o    ij,jk->ik
 *
 * Any other equation (a contraction over several axes, a weight of rank 3, an axis moved) is not a
 * dense layer as the walk knows it: the caller keeps the op as a break and says so in a note.
 */

/** The weight's layout when the equation is a dense layer, or why it is not. */
export type EinsumDense = { layout: "in_out" | "out_in" } | { why: string };

/** Read an Einsum equation whose operand `weightIndex` (0 or 1) is a 2-D constant. */
export function einsumAsDense(equation: string, weightIndex: number): EinsumDense {
  const text = equation.replace(/\s+/g, "");
  const arrow = text.indexOf("->");
  if (arrow < 0) return { why: "the equation has no explicit output (->)" };
  const inputs = text.slice(0, arrow).split(",");
  const output = terms(text.slice(arrow + 2));
  if (inputs.length !== 2) return { why: `it has ${inputs.length} operands, not 2` };
  const data = terms(inputs[1 - weightIndex]);
  const weight = terms(inputs[weightIndex]);
  if (!data || !weight || !output) return { why: "its terms are not letters (with at most one ...)" };
  if (weight.length !== 2 || weight.includes("...")) return { why: "its constant operand is not a matrix" };
  const contracted = data[data.length - 1];
  if (contracted === "..." || !weight.includes(contracted) || output.includes(contracted)) return { why: "the data operand's last axis is not the one it contracts with the weight" };
  const kept = weight[0] === contracted ? weight[1] : weight[0];
  if (kept === contracted || data.includes(kept)) return { why: "the weight's axes are not one contracted, one new" };
  const expected = [...data.slice(0, -1), kept];
  if (new Set(data).size !== data.length || expected.length !== output.length || expected.some((t, i) => output[i] !== t)) {
    return { why: "its output does not keep the data operand's other axes in order with the new axis last" };
  }
  return { layout: weight[0] === contracted ? "in_out" : "out_in" };
}

/** One term's axes: single letters, "..." kept as one token; undefined when it holds anything else. */
function terms(term: string): string[] | undefined {
  const out: string[] = [];
  for (let i = 0; i < term.length; ) {
    if (term.startsWith("...", i)) {
      if (out.includes("...")) return undefined;
      out.push("...");
      i += 3;
    } else if (/[A-Za-z]/.test(term[i])) out.push(term[i++]);
    else return undefined;
  }
  return out;
}
