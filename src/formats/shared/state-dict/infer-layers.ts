import { formatShape, quoteName } from "../../../errors.js";
import type { LayerInfo, TensorInfo } from "../../../model/types.js";

/**
 * Layers of a graph-less state_dict (safetensors, .npz) from tensor names and shapes, PyTorch
 * style: `<layer>.weight` with an optional `<layer>.bias`. Layers are ordered by their names'
 * dotted parts, numbers compared as numbers (`layers.2` before `layers.10`), which is the
 * registration order of `nn.Sequential` and of numbered module lists.
 *
 *   rank 2 weight  -> dense, stored [out, in] (nn.Linear)
 *   rank 1 weight  -> norm (BatchNorm/LayerNorm scale): a distribution only
 *   rank 3/4       -> conv1d/conv2d, stored [out, in/groups, (kh,) kw]: a distribution only until
 *                     the conv graph lands
 *   anything else  -> other: a distribution only
 *
 * PyTorch recurrent modules (nn.RNN/LSTM/GRU) name their tensors `<m>.weight_ih_l<k>`,
 * `weight_hh_l<k>`, `bias_ih_l<k>`, `bias_hh_l<k>`, with `_reverse` for the second direction:
 * one layer per stacked layer k and direction, kind from the gate count G = rows / hidden of
 * weight_hh (1 rnn, 3 gru, 4 lstm).
 *
 * A `<layer>.bias` pairs with its weight only when its length is the layer's output count (rows
 * of a dense or conv weight, the length of a norm's scale); otherwise both are measured as
 * distributions of their own and `notes` says why.
 */
export function inferLayersFromNames(tensors: readonly TensorInfo[], notes: string[] = []): LayerInfo[] {
  const byPrefix = new Map<string, { weight?: TensorInfo; bias?: TensorInfo; rest: TensorInfo[]; recurrent?: { reverse: boolean; parts: Map<string, TensorInfo> } }>();
  const entry = (prefix: string) => {
    let e = byPrefix.get(prefix);
    if (!e) byPrefix.set(prefix, (e = { rest: [] }));
    return e;
  };
  const recurrent = new Map<string, { prefix: string; k: number; reverse: boolean; parts: Map<string, TensorInfo> }>();
  for (const t of tensors) {
    const m = /^(?:(.*)\.)?(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$/.exec(t.name);
    if (m) {
      // A bare nn.LSTM's state_dict has no module prefix: its layers are "l0", "l0_reverse", ...
      const key = `${m[1] === undefined ? "" : `${m[1]}.`}l${m[3]}${m[4] ?? ""}`;
      let r = recurrent.get(key);
      if (!r) recurrent.set(key, (r = { prefix: m[1] ?? "", k: Number(m[3]), reverse: m[4] !== undefined, parts: new Map() }));
      r.parts.set(m[2], t);
      continue;
    }
    const dot = t.name.lastIndexOf(".");
    const prefix = dot < 0 ? "" : t.name.slice(0, dot);
    const suffix = dot < 0 ? t.name : t.name.slice(dot + 1);
    if (suffix === "weight" && dot >= 0) entry(prefix).weight = t;
    else if (suffix === "bias" && dot >= 0) entry(prefix).bias = t;
    else entry(t.name).rest.push(t);
  }
  // A module of one stacked layer is named by its prefix ("rnn", "rnn.reverse"), as the value it writes; deeper stacks by layer ("rnn.l0", "rnn.l1").
  const depth = new Map<string, number>();
  for (const r of recurrent.values()) depth.set(r.prefix, Math.max(depth.get(r.prefix) ?? 0, r.k + 1));
  for (const [key, r] of recurrent) {
    // Recurrent layers join the name order under their module's prefix.
    const single = r.prefix !== "" && depth.get(r.prefix) === 1;
    entry(single ? `${r.prefix}${r.reverse ? ".reverse" : ""}` : key).recurrent = r;
  }
  const layers: LayerInfo[] = [];
  for (const prefix of [...byPrefix.keys()].sort(compareDotted)) {
    const rec = byPrefix.get(prefix)!.recurrent;
    if (rec) {
      layers.push(recurrentLayer(prefix, rec.reverse, rec.parts));
      continue;
    }
    const { weight, bias, rest } = byPrefix.get(prefix)!;
    if (weight) {
      const rank = weight.shape.length;
      const kind = rank === 2 ? "dense" : rank === 1 ? "norm" : rank === 3 ? "conv1d" : rank === 4 ? "conv2d" : "other";
      const outputs = kind === "other" ? undefined : weight.shape[0];
      const fits = bias === undefined || (bias.shape.length === 1 && bias.shape[0] === outputs);
      layers.push({ name: prefix, kind, weight: weight.name, bias: fits ? bias?.name : undefined, weightLayout: kind === "dense" ? "out_in" : undefined });
      if (!fits) {
        layers.push({ name: bias!.name, kind: "other", weight: bias!.name });
        notes.push(`${quoteName(bias!.name)} ${formatShape(bias!.shape)} does not fit ${quoteName(weight.name)} ${formatShape(weight.shape)} (${kind === "other" ? "a weight of rank " + rank + " has no bias" : `a bias of ${outputs} values would be`}): both are measured as distributions of their own, and the bias is in no node strength.`);
      }
    } else if (bias) {
      layers.push({ name: prefix, kind: "other", weight: bias.name });
    }
    for (const t of rest) layers.push({ name: t.name, kind: "other", weight: t.name });
  }
  return layers;
}

function recurrentLayer(name: string, reverse: boolean, parts: Map<string, TensorInfo>): LayerInfo {
  const wi = parts.get("weight_ih"), wh = parts.get("weight_hh");
  if (!wi || !wh || wh.shape.length !== 2 || wi.shape.length !== 2) {
    // Incomplete: report what is there as distributions.
    return { name, kind: "other", weight: (wi ?? wh ?? [...parts.values()][0]).name };
  }
  const hidden = wh.shape[1];
  const gates = hidden > 0 ? wh.shape[0] / hidden : 0;
  const kind = gates === 4 ? "lstm" : gates === 3 ? "gru" : gates === 1 ? "rnn" : "other";
  const layer: LayerInfo = { name, kind, weight: wi.name, recurrentWeight: wh.name, weightLayout: "out_in", attributes: { hidden, direction: reverse ? "reverse" : "forward" } };
  if (kind === "lstm") layer.attributes!.gateOrder = "ifgo";
  if (kind === "gru") layer.attributes!.gateOrder = "rzn";
  const bi = parts.get("bias_ih"), bh = parts.get("bias_hh");
  if (bi) layer.bias = bi.name;
  if (bh) layer.recurrentBias = bh.name;
  return layer;
}

/** Order of dotted names: part by part, numeric parts as numbers and before text parts. */
export function compareDotted(a: string, b: string): number {
  const pa = a.split("."), pb = b.split(".");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const na = /^\d+$/.test(pa[i]), nb = /^\d+$/.test(pb[i]);
    if (na && nb) {
      const d = Number(pa[i]) - Number(pb[i]);
      if (d !== 0) return d;
    } else if (na !== nb) {
      return na ? -1 : 1;
    } else if (pa[i] !== pb[i]) {
      return pa[i] < pb[i] ? -1 : 1;
    }
  }
  return pa.length - pb.length;
}
