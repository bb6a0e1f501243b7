/**
 * The report as JSON text in pieces, the same text as `JSON.stringify(report, replacer, indent)`
 * but never one string: a report with per-node values of a large model is hundreds of MB, past
 * what a JS string holds, and a writer can send each piece as it comes.
 *
 * Rules (those of toJSON): typed arrays become plain arrays; NaN and ±Infinity become null;
 * undefined and function members are left out of objects and become null in arrays; a `toJSON`
 * method is honoured.
 */

/** Numbers of one typed array written per piece, so a piece stays a few tens of KB. */
const NUMBERS_PER_PIECE = 2048;

/**
 * JSON text of `value` in pieces; joined, they equal toJSON(value, indent).
 * @example
 *   for (const piece of jsonPieces(report)) process.stdout.write(piece);
 */
export function* jsonPieces(value: unknown, indent = 2): Generator<string> {
  const pad = typeof indent === "number" ? " ".repeat(Math.max(0, Math.min(10, indent))) : "";
  yield* piecesOf(value, "", pad);
}

function* piecesOf(value: unknown, at: string, pad: string): Generator<string> {
  const text = scalar(value);
  if (text !== undefined) {
    yield text;
    return;
  }
  // A small value (a layer's object, a histogram) is one JSON.stringify, re-indented: walking it
  // piece by piece here would cost ten times as much. Only large arrays are walked.
  if (isSmall(value, SMALL_BUDGET) >= 0) {
    const whole = JSON.stringify(value, jsonReplacer, pad);
    yield pad && at ? whole.replace(/\n/g, `\n${at}`) : whole;
    return;
  }
  const inner = at + pad;
  const open = pad ? `\n${inner}` : "";
  const comma = pad ? `,\n${inner}` : ",";
  const close = pad ? `\n${at}` : "";
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const numbers = value as unknown as ArrayLike<number>;
    if (numbers.length === 0) return yield "[]";
    for (let start = 0; start < numbers.length; start += NUMBERS_PER_PIECE) {
      const end = Math.min(numbers.length, start + NUMBERS_PER_PIECE);
      let piece = start === 0 ? `[${open}` : comma;
      for (let i = start; i < end; i++) piece += (i === start ? "" : comma) + number(Number(numbers[i]));
      yield piece;
    }
    return yield `${close}]`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return yield "[]";
    for (let i = 0; i < value.length; i++) {
      yield i === 0 ? `[${open}` : comma;
      const item = toJsonValue(value[i], String(i));
      if (item === undefined || typeof item === "function" || typeof item === "symbol") yield "null";
      else yield* piecesOf(item, inner, pad);
    }
    return yield `${close}]`;
  }
  const object = value as Record<string, unknown>;
  let first = true;
  for (const key of Object.keys(object)) {
    const member = toJsonValue(object[key], key);
    if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
    yield `${first ? `{${open}` : comma}${JSON.stringify(key)}:${pad ? " " : ""}`;
    first = false;
    yield* piecesOf(member, inner, pad);
  }
  yield first ? "{}" : `${close}}`;
}

/** Elements (array items, object members, typed array numbers) below which a value is written in one piece. */
const SMALL_BUDGET = 4096;

/** The budget left after counting `value`'s elements, or -1 when it has more (or a toJSON method, walked by the generator). */
function isSmall(value: unknown, budget: number): number {
  if (value === null || typeof value !== "object") return budget - 1;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return -1;
  if (ArrayBuffer.isView(value)) return budget - (value as unknown as ArrayLike<number>).length;
  const items = Array.isArray(value) ? value : Object.values(value);
  budget -= items.length;
  for (let i = 0; i < items.length && budget >= 0; i++) budget = isSmall(items[i], budget);
  return budget;
}

/** The rules of the report's JSON (a JSON.stringify replacer): typed arrays as arrays, non-finite numbers as null. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  return value;
}

function toJsonValue(value: unknown, key: string): unknown {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") return (value as { toJSON(key: string): unknown }).toJSON(key);
  return value;
}

/** The text of a value that is not an object or array, else undefined. */
function scalar(value: unknown): string | undefined {
  value = toJsonValue(value, "");
  if (value === null) return "null";
  switch (typeof value) {
    case "number":
      return number(value);
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError("Do not know how to serialize a BigInt");
    case "object":
      return undefined;
    default:
      return "null";
  }
}

function number(x: number): string {
  return Number.isFinite(x) ? JSON.stringify(x) : "null";
}
