import { CntError } from "../errors.js";

/** Safe upper bounds on what a file may declare; exceeding one is a TOO_LARGE error naming it. */
export interface Limits {
  /** Largest header (JSON, FlatBuffers, protobuf graph) read into memory. */
  maxHeaderBytes: number;
  maxTensors: number;
  maxRank: number;
  maxNameBytes: number;
  maxLayers: number;
  /** FlatBuffers nesting depth and table count the verifier walks. */
  maxDepth: number;
  maxTables: number;
  /** Bytes a zip entry (.npz) may inflate to; inflation also stops at the entry's declared size. */
  maxInflatedBytes: number;
  /**
   * Nodes in one node layer (and rows or columns of one weight matrix). Strength vectors are
   * kept whole (8 bytes a node, a few vectors a layer) and a shape alone declares them, even
   * for a tensor with no elements or a stream whose bytes have not arrived.
   */
  maxLayerNodes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxHeaderBytes: 16 * 1024 * 1024,
  maxTensors: 250_000,
  maxRank: 8,
  maxNameBytes: 4096,
  maxLayers: 250_000,
  maxDepth: 64,
  maxTables: 1_000_000,
  maxInflatedBytes: 8 * 1024 ** 3,
  maxLayerNodes: 2 ** 24,
});

export function resolveLimits(overrides: Partial<Limits> | undefined): Limits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new CntError("BAD_OPTION", `Option limits.${key} must be a positive integer; got ${String(value)}.`);
    }
  }
  return limits;
}

/** Throw TOO_LARGE when `actual` exceeds the limit `key`. */
export function checkLimit(limits: Limits, key: keyof Limits, actual: number, what: string, details: { format?: string; file?: string } = {}): void {
  if (actual > limits[key]) {
    throw new CntError("TOO_LARGE", `${what} is ${actual.toLocaleString("en-US")}, above the limit ${key} = ${limits[key].toLocaleString("en-US")}; raise it in options.limits if the file is trusted.`, { ...details, expected: limits[key], actual });
  }
}
