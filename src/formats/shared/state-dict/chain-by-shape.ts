import type { LayerInfo, TensorInfo } from "../../../model/types.js";

const WEIGHTED = new Set(["dense", "rnn", "lstm", "gru", "conv1d", "conv2d", "conv2d_transpose"]);

/** Names that say where a layer sits, when the file's order says nothing (spec metrics.md 1c). */
const FIRST = /(^|[._])(embed|embedding|embeddings|encoder|enc|input|stem|features)([._\d]|$)/i;
const LAST = /(^|[._])(decoder|dec|head|heads|classifier|fc|lm_head|output|out|logits|final)([._\d]|$)/i;

/**
 * Order a state_dict's layers by shape (spec metrics.md 1c, rule 3): each weighted layer's input
 * size equals the previous one's output size. Where several orders fit, the tensors' order in the
 * file decides (a PyTorch state_dict is stored in registration order), unless that order is just
 * alphabetical (as the safetensors library writes): then names' roles decide (embeddings and
 * encoders first, decoders and heads last), then the file's order. Weightless and unknown layers
 * follow the weighted layer they followed by name. A search of at most 20,000 steps: beyond it,
 * or where no order fits, the preferred order stands and the walk notes where shapes break.
 */
export function chainByShape(layers: LayerInfo[], tensors: readonly TensorInfo[]): { layers: LayerInfo[]; notes: string[] } {
  const position = new Map(tensors.map((t, i) => [t.name, i]));
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const sizes = (l: LayerInfo) => layerSizes(l, byName);
  const weighted = layers.filter((l) => WEIGHTED.has(l.kind) && sizes(l));
  const weightedSet = new Set(weighted);
  if (weighted.length < 2) return { layers, notes: [] };
  // Recurrent directions (l0 and l0_reverse) stay together, forward first.
  const units: LayerInfo[][] = [];
  for (const l of weighted) {
    const last = units[units.length - 1];
    if (last && l.attributes?.direction === "reverse" && last[0].kind === l.kind && last.length === 1) last.push(l);
    else units.push([l]);
  }
  const first = (u: LayerInfo[]) => Math.min(...u.map((l) => position.get(l.weight!) ?? Infinity));
  const byFile = [...units].sort((a, b) => first(a) - first(b));
  const fileNames = byFile.map((u) => u[0].name);
  const alphabetical = fileNames.every((n, i) => i === 0 || fileNames[i - 1] <= n);
  const role = (u: LayerInfo[]) => (FIRST.test(u[0].name) ? 0 : LAST.test(u[0].name) ? 2 : 1);
  const preferred = alphabetical ? [...byFile].sort((a, b) => role(a) - role(b) || first(a) - first(b)) : byFile;
  const io = (u: LayerInfo[]) => {
    const s = u.map(sizes);
    return { nIn: s[0]!.nIn, nOut: s.reduce((a, x) => a + x!.nOut, 0), conv: u[0].kind.startsWith("conv") };
  };
  // A dense layer after a conv reads its flattened map: any multiple of its channels fits.
  // The preferred order itself, when it fits (O(n)); else a depth-first search over orders, the
  // preferred one first at every step, with an explicit stack and a step budget, for files of at
  // most 256 weighted layers (beyond that the preferred order stands, with a note).
  const MAX_SEARCHED = 256;
  const ioOf = preferred.map(io);
  const fitsAt = (a: number, b: number) => ioOf[b].nIn === ioOf[a].nOut || (ioOf[a].conv && preferred[b][0].kind === "dense" && ioOf[b].nIn % ioOf[a].nOut === 0);
  const order: number[] = [];
  let found = preferred.every((_, i) => i === 0 || fitsAt(i - 1, i));
  if (found) preferred.forEach((_, i) => order.push(i));
  else if (preferred.length <= MAX_SEARCHED) {
    const used = new Array<boolean>(preferred.length).fill(false);
    // next[d]: the candidate index to try at depth d.
    const next: number[] = [0];
    let steps = 0;
    while (next.length > 0 && steps++ < 20_000) {
      const d = next.length - 1;
      if (order.length === preferred.length) {
        found = true;
        break;
      }
      let i = next[d];
      while (i < preferred.length && (used[i] || (order.length > 0 && !fitsAt(order[order.length - 1], i)))) i++;
      if (i >= preferred.length) {
        // Nothing fits at this depth: step back.
        next.pop();
        const last = order.pop();
        if (last !== undefined) used[last] = false;
        continue;
      }
      next[d] = i + 1;
      used[i] = true;
      order.push(i);
      next.push(0);
    }
    if (!found) order.length = 0;
  }
  const notes: string[] = [];
  const chain = found ? order.map((i) => preferred[i]) : preferred;
  const names = chain.map((u) => u[0].name);
  const sameAsNames = names.every((n, i) => n === units[i][0].name);
  if (!found) notes.push(`No order of the weighted layers chains by shape (each layer's inputs the previous layer's outputs); they are walked in ${alphabetical ? "the order their names' roles give" : "the file's order"}, and the node layers stop where shapes break.`);
  else if (!sameAsNames) notes.push(`The layers are chained by shape (${names.slice(0, 8).join(" -> ")}${names.length > 8 ? " -> ..." : ""}), not by name order${alphabetical ? "; the file lists tensors alphabetically, so names' roles (encoders first, decoders and heads last) broke ties" : ", with the file's order breaking ties"}.`);

  // Every other layer follows the weighted layer it followed in name order.
  const followers = new Map<LayerInfo, LayerInfo[]>();
  const leading: LayerInfo[] = [];
  let anchor: LayerInfo | undefined;
  for (const l of layers) {
    if (weightedSet.has(l)) anchor = l;
    else if (anchor) {
      let list = followers.get(anchor);
      if (!list) followers.set(anchor, (list = []));
      list.push(l);
    }
    else leading.push(l);
  }
  const out = [...leading];
  for (const u of chain) for (const l of u) out.push(l, ...(followers.get(l) ?? []));
  return { layers: out, notes };
}

/** A weighted layer's input and output sizes from its weight's shape and layout. */
function layerSizes(l: LayerInfo, tensors: Map<string, TensorInfo>): { nIn: number; nOut: number } | undefined {
  const w = l.weight === undefined ? undefined : tensors.get(l.weight);
  if (!w) return undefined;
  if (l.kind === "dense" && w.shape.length === 2) return l.weightLayout === "in_out" ? { nIn: w.shape[0], nOut: w.shape[1] } : { nIn: w.shape[1], nOut: w.shape[0] };
  if ((l.kind === "rnn" || l.kind === "lstm" || l.kind === "gru") && w.shape.length === 2) {
    const hidden = Number(l.attributes?.hidden);
    return { nIn: l.weightLayout === "in_out" ? w.shape[0] : w.shape[1], nOut: hidden };
  }
  if (l.kind === "conv1d" || l.kind === "conv2d") {
    // Channels: [c_out, c_in/g, ...] (PyTorch) or [..., c_in/g, c_out] (Keras); sizes in channels.
    const groups = Number(l.attributes?.groups ?? 1);
    return l.weightLayout === "hwio" ? { nIn: w.shape[w.shape.length - 2] * groups, nOut: w.shape[w.shape.length - 1] } : { nIn: w.shape[1] * groups, nOut: w.shape[0] };
  }
  return undefined;
}
