import { CntError, type CntErrorDetails, formatShape } from "../errors.js";

/** Convert a u64/i64 from a file (BigInt or number) to a safe JS integer, or throw `code`. */
export function toSafeInteger(
  value: bigint | number,
  what: string,
  code: "OUT_OF_BOUNDS" | "BAD_SHAPE" | "BAD_HEADER",
  details: CntErrorDetails = {},
): number {
  const n = typeof value === "bigint" ? (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= 0n ? Number(value) : NaN) : value;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CntError(code, `${what} is ${String(value)}, which is not an integer in [0, 2^53).`, { ...details, actual: String(value) });
  }
  return n;
}

/** Product of dims with an overflow check: every dim a non-negative safe integer, the product below 2^53. */
export function checkedProduct(dims: readonly unknown[], what: string, details: CntErrorDetails = {}): number {
  let product = 1;
  dims.forEach((d, i) => {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new CntError("BAD_SHAPE", `${what}: dim ${i} is ${JSON.stringify(d) ?? String(d)}, not a non-negative integer.`, details);
    }
    product *= d;
    if (!Number.isSafeInteger(product)) {
      throw new CntError("BAD_SHAPE", `${what}: the element count of shape ${formatShape(dims)} exceeds 2^53.`, details);
    }
  });
  return product;
}
