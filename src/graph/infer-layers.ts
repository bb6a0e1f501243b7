import type { LayerInfo, TensorInfo } from "../model/types.js";

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
 */
export function inferLayersFromNames(tensors: readonly TensorInfo[]): LayerInfo[] {
  const byPrefix = new Map<string, { weight?: TensorInfo; bias?: TensorInfo; rest: TensorInfo[] }>();
  const entry = (prefix: string) => {
    let e = byPrefix.get(prefix);
    if (!e) byPrefix.set(prefix, (e = { rest: [] }));
    return e;
  };
  for (const t of tensors) {
    const dot = t.name.lastIndexOf(".");
    const prefix = dot < 0 ? "" : t.name.slice(0, dot);
    const suffix = dot < 0 ? t.name : t.name.slice(dot + 1);
    if (suffix === "weight" && dot >= 0) entry(prefix).weight = t;
    else if (suffix === "bias" && dot >= 0) entry(prefix).bias = t;
    else entry(t.name).rest.push(t);
  }
  const layers: LayerInfo[] = [];
  for (const prefix of [...byPrefix.keys()].sort(compareDotted)) {
    const { weight, bias, rest } = byPrefix.get(prefix)!;
    if (weight) {
      const rank = weight.shape.length;
      const kind = rank === 2 ? "dense" : rank === 1 ? "norm" : rank === 3 ? "conv1d" : rank === 4 ? "conv2d" : "other";
      layers.push({ name: prefix, kind, weight: weight.name, bias: bias?.name, weightLayout: kind === "dense" ? "out_in" : undefined });
    } else if (bias) {
      layers.push({ name: prefix, kind: "other", weight: bias.name });
    }
    for (const t of rest) layers.push({ name: t.name, kind: "other", weight: t.name });
  }
  return layers;
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
