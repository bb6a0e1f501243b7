/**
 * Control flow whose outcome the file fixes: an If whose condition is a constant takes one
 * branch, always; that branch's nodes are part of the graph (spec metrics.md 1b: constants are
 * folded to learn the data path). Loop and Scan bodies are not walked (their weights are measured
 * and a note names the body).
 */
import type { GraphRec, NodeRec } from "./records.js";

/** The branch an If takes when its condition is a one-value constant, or undefined. */
export function takenBranch(node: NodeRec, lookups: { ints(name: string): number[] | undefined }): { graph: GraphRec; which: "then" | "else" } | undefined {
  const cond = node.inputs[0] ? lookups.ints(node.inputs[0]) : undefined;
  if (!cond || cond.length !== 1) return undefined;
  const which = cond[0] !== 0 ? "then" : "else";
  const attr = node.attrs.get(`${which}_branch`);
  const graph = attr?.kind === "graph" && attr.index !== undefined ? node.subgraphs[attr.index] : undefined;
  return graph ? { graph, which } : undefined;
}

/** A note for a Loop or Scan: the body the walk does not enter, and the weights in it. */
export function bodyNote(node: NodeRec, weights: string[]): string {
  const op = node.opType;
  const body = node.subgraphs.map((g) => (g.name ? `'${g.name.slice(0, 60)}'` : "(unnamed)")).join(", ");
  const held = weights.length > 0 ? ` It holds ${weights.length} weight tensor(s) (${weights.slice(0, 3).map((w) => `'${w.slice(0, 60)}'`).join(", ")}${weights.length > 3 ? ", ..." : ""}), reported as distributions.` : "";
  return `${op} '${(node.name || op).slice(0, 80)}' runs the body graph ${body} (${node.subgraphs.reduce((n, g) => n + g.nodes.length, 0)} nodes), which the walk does not enter: the node layers it reads and writes are left out.${held}`;
}
