/**
 * A population made at run time (never committed): copies of the bundled MLP
 * (models/digits-mlp.safetensors, 64-32-16-10) with every weight and bias scaled by its own
 * factor 1 + 0.2 (u - 0.5), u from a seeded generator (one seed per network). Same size and
 * layers as the bundled model, different numbers. Used by the fan-out tests and
 * bench/population.bench.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BUNDLED_MODEL = fileURLToPath(new URL("../../models/digits-mlp.safetensors", import.meta.url));

/** Uniform numbers in [0, 1) from a 32-bit seed (mulberry32). */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The bundled model's bytes with its f32 tensors perturbed by seed `seed`. */
export function perturbedModel(seed: number, model = readFileSync(BUNDLED_MODEL)): Uint8Array {
  const out = new Uint8Array(model);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const headerBytes = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + headerBytes))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const random = generator(seed);
  for (const [name, tensor] of Object.entries(header)) {
    if (name === "__metadata__" || tensor.dtype !== "F32") continue;
    const [start, end] = tensor.data_offsets;
    for (let at = 8 + headerBytes + start; at < 8 + headerBytes + end; at += 4) {
      view.setFloat32(at, view.getFloat32(at, true) * (1 + 0.2 * (random() - 0.5)), true);
    }
  }
  return out;
}

/**
 * Write `count` perturbed copies into `dir` as net-0000.safetensors, net-0001... (seed = index + 1).
 * @returns the file names, in sorted order.
 */
export function writePerturbedNetworks(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true });
  const model = readFileSync(BUNDLED_MODEL);
  const names: string[] = [];
  for (let k = 0; k < count; k++) {
    const name = `net-${String(k).padStart(4, "0")}.safetensors`;
    writeFileSync(join(dir, name), perturbedModel(k + 1, model));
    names.push(name);
  }
  return names;
}
