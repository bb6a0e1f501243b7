/**
 * A lazy protobuf wire reader over a ByteSource: the message structure is read in bounded
 * chunks, length-delimited fields are reported as (offset, length) in the file and only read
 * when the caller asks, so a tensor's payload (ONNX `raw_data`) is never held in memory.
 *
 * Why our own and not a library (spec real-models.md): every npm decoder decodes a whole message
 * from one buffer, which means holding the whole file; a lazy reader decodes the real ONNX files
 * 2-4x faster and needs only a window of a few KiB to 1 MiB.
 *
 * Checks: varints of at most 10 bytes (and at most 64 bits); field numbers above 0; wire types
 * 0, 1, 2 and 5 only (groups are refused: no format we read uses them); every length against the
 * bytes left in the file (TRUNCATED) and in the enclosing message (BAD_HEADER); nesting depth
 * against `maxDepth`; bytes decoded (everything but the payloads the caller skips) against
 * `maxHeaderBytes` (TOO_LARGE).
 */
import { CntError, formatCount, type CntErrorCode } from "../../errors.js";
import type { ByteSource } from "../../source/types.js";
import { WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from "./magic.js";

export { WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from "./magic.js";

export interface ProtoOptions {
  /** Format name for messages ("ONNX"). */
  format: string;
  maxHeaderBytes: number;
  maxDepth: number;
  /** Smallest and largest read of structure bytes (default 4 KiB and 1 MiB). */
  minChunk?: number;
  maxChunk?: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const TWO32 = 4294967296;

/**
 * The shared window over the source: one buffer that moves forward as messages are walked.
 * Reads grow from `minChunk` to `maxChunk` while they are contiguous (a graph's dense structure)
 * and fall back to `minChunk` after a skip (a tensor payload), so few payload bytes are read.
 */
export class ProtoReader {
  readonly size: number;
  /** Bytes decoded so far (structure and the payloads read), checked against maxHeaderBytes. */
  decoded = 0;
  private buf: Uint8Array;
  private bufStart = 0;
  private bufEnd = 0;
  private chunk: number;
  private readonly minChunk: number;
  private readonly maxChunk: number;

  constructor(readonly source: ByteSource, readonly options: ProtoOptions) {
    if (source.size === undefined) throw new CntError("INTERNAL", `${options.format} reader needs a source of known size.`, { file: source.name });
    this.size = source.size;
    this.minChunk = options.minChunk ?? 4096;
    this.maxChunk = Math.max(this.minChunk, options.maxChunk ?? 1 << 20);
    this.chunk = this.minChunk;
    this.buf = new Uint8Array(this.maxChunk);
  }

  /** A CntError whose message starts with the format and file, naming the byte offset. */
  error(code: CntErrorCode, message: string, offset: number, extra: { tensor?: string; expected?: unknown; actual?: unknown; cause?: unknown } = {}): CntError {
    return new CntError(code, `${this.options.format} '${this.source.name}': ${message}`, { format: this.options.format, file: this.source.name, offset, ...extra });
  }

  /** The top-level message: the whole file. */
  root(): Message {
    return new Message(this, 0, this.size, 0);
  }

  /** Count `n` decoded bytes against maxHeaderBytes. */
  count(n: number, offset: number): void {
    this.decoded += n;
    if (this.decoded > this.options.maxHeaderBytes) {
      throw this.error(
        "TOO_LARGE",
        `the model structure (everything but tensor payloads) is more than ${formatCount(this.options.maxHeaderBytes)} bytes (reached at byte ${formatCount(offset)}), above the limit maxHeaderBytes = ${formatCount(this.options.maxHeaderBytes)}; raise it in options.limits if the file is trusted.`,
        offset,
        { expected: this.options.maxHeaderBytes, actual: this.decoded },
      );
    }
  }

  /** True when [offset, offset + n) is in the window. */
  has(offset: number, n: number): boolean {
    return offset >= this.bufStart && offset + n <= this.bufEnd;
  }

  /**
   * Bring [offset, offset + n) into the window, reading at least the current chunk size but
   * never past `limit` (the end of the message being walked).
   */
  async load(offset: number, n: number, limit: number): Promise<void> {
    if (this.has(offset, n)) return;
    this.chunk = offset === this.bufEnd ? Math.min(this.chunk * 2, this.maxChunk) : this.minChunk;
    const want = Math.min(Math.max(n, this.chunk), limit - offset);
    if (want > this.buf.byteLength) this.buf = new Uint8Array(want);
    // Keep what is already there when the new range starts inside the window.
    const keep = offset >= this.bufStart && offset < this.bufEnd ? this.bufEnd - offset : 0;
    if (keep > 0) this.buf.copyWithin(0, offset - this.bufStart, this.bufEnd - this.bufStart);
    if (want > keep) await this.source.readInto(offset + keep, this.buf.subarray(keep, want));
    this.bufStart = offset;
    this.bufEnd = offset + want;
  }

  /** The window's bytes at [offset, offset + n); call after load(). The view is valid until the next load. */
  view(offset: number, n: number): Uint8Array {
    return this.buf.subarray(offset - this.bufStart, offset - this.bufStart + n);
  }

  /** The window's byte at `offset`; call after load(). */
  byte(offset: number): number {
    return this.buf[offset - this.bufStart];
  }
}

/**
 * One message being walked: `next()` steps to the following field and leaves its number, wire
 * type and value in the public fields. Length-delimited payloads are not read: `offset` and
 * `length` say where they are, and `bytes()`, `string()` or `child()` read or walk them.
 *
 * @example
 *   const m = reader.root();
 *   while (await m.next()) if (m.field === 1 && m.wire === WIRE_VARINT) irVersion = m.uint("ir_version");
 */
export class Message {
  /** Position of the next field. */
  pos: number;
  /** Number and wire type of the current field, and where it starts (its tag). */
  field = 0;
  wire = 0;
  at = 0;
  /** Varint value as two 32-bit halves (fixed32/fixed64 values are read with float()/double()). */
  lo = 0;
  hi = 0;
  /** Payload position: the length-delimited payload, or the fixed32/fixed64 bytes. */
  offset = 0;
  length = 0;

  constructor(readonly reader: ProtoReader, readonly start: number, readonly end: number, readonly depth: number) {
    this.pos = start;
  }

  /**
   * How many times `field` occurs in this message, counted by stepping over the fields (payloads
   * are skipped, not read) of a second walker, so that a limit can be checked before anything is
   * decoded. The tags it steps over are not counted against maxHeaderBytes twice.
   */
  async countField(field: number, stopAbove: number): Promise<number> {
    const scan = new Message(this.reader, this.pos, this.end, this.depth);
    const decoded = this.reader.decoded;
    let n = 0;
    try {
      while (n <= stopAbove && (await scan.next())) if (scan.field === field) n++;
    } finally {
      this.reader.decoded = decoded;
    }
    return n;
  }

  /** Step to the next field; false at the end of the message. */
  async next(): Promise<boolean> {
    const r = this.reader;
    if (this.pos >= this.end) return false;
    this.at = this.pos;
    const need = Math.min(20, this.end - this.pos);
    if (!r.has(this.pos, need)) await r.load(this.pos, need, this.end);
    this.readVarint("a field tag");
    if (this.hi !== 0) throw r.error("BAD_HEADER", `the field tag at byte ${formatCount(this.at)} is larger than 32 bits.`, this.at);
    this.field = this.lo >>> 3;
    this.wire = this.lo & 7;
    if (this.field === 0) throw r.error("BAD_HEADER", `field number 0 at byte ${formatCount(this.at)} is not valid protobuf.`, this.at);
    switch (this.wire) {
      case WIRE_VARINT:
        this.readVarint(`the value of field ${this.field}`);
        break;
      case WIRE_I64:
        this.fixed(8);
        break;
      case WIRE_I32:
        this.fixed(4);
        break;
      case WIRE_LEN: {
        this.readVarint(`the length of field ${this.field}`);
        const length = this.hi * TWO32 + this.lo;
        this.offset = this.pos;
        this.length = length;
        this.checkRoom(length, `field ${this.field}`);
        this.pos += length;
        break;
      }
      default:
        throw r.error("BAD_HEADER", `field ${this.field} at byte ${formatCount(this.at)} has wire type ${this.wire}, which is ${this.wire === 3 || this.wire === 4 ? "a protobuf group (not used by this format)" : "not a protobuf wire type"}.`, this.at);
    }
    r.count(this.pos - this.at - (this.wire === WIRE_LEN ? this.length : 0), this.at);
    return true;
  }

  /** The current varint as a non-negative integer below 2^53 (uint64, int64 that must not be negative). */
  uint(what: string, code: "BAD_HEADER" | "BAD_SHAPE" | "OUT_OF_BOUNDS" = "BAD_HEADER", extra: { tensor?: string } = {}): number {
    if (this.hi >= 0x200000) {
      const value = this.hi >= 0x80000000 ? `${this.int64Text()}` : `${(BigInt(this.hi) << 32n) | BigInt(this.lo)}`;
      throw this.reader.error(code, `${what} at byte ${formatCount(this.at)} is ${value}, not an integer in [0, 2^53).`, this.at, { ...extra, actual: value });
    }
    return this.hi * TWO32 + this.lo;
  }

  /** The current varint as a signed int64 within ±2^53 (negative values are 10-byte two's complement). */
  int(what: string): number {
    if (this.hi >= 0x80000000) {
      // two's complement: -(~value + 1)
      const nlo = (~this.lo >>> 0) + 1;
      const nhi = (~this.hi >>> 0) + (nlo >= TWO32 ? 1 : 0);
      if (nhi >= 0x200000) throw this.reader.error("BAD_HEADER", `${what} at byte ${formatCount(this.at)} is ${this.int64Text()}, outside ±2^53.`, this.at);
      return -(nhi * TWO32 + (nlo >= TWO32 ? nlo - TWO32 : nlo));
    }
    return this.uint(what);
  }

  /** The current varint as an int32 enum value (protobuf sign-extends negative int32 to 64 bits). */
  int32(): number {
    return this.lo | 0;
  }

  /** The current fixed32 field as an f32. */
  async float(): Promise<number> {
    const r = this.reader;
    if (!r.has(this.offset, 4)) await r.load(this.offset, 4, this.end);
    const b = r.view(this.offset, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
  }

  /** Read the current length-delimited payload (after checking it against `max`, a limit of ours). */
  async bytes(max: number, what: string, onTooLarge?: () => CntError): Promise<Uint8Array> {
    const r = this.reader;
    if (this.length > max) {
      throw onTooLarge ? onTooLarge() : r.error("TOO_LARGE", `${what} at byte ${formatCount(this.offset)} is ${formatCount(this.length)} bytes, above the limit of ${formatCount(max)}.`, this.offset, { expected: max, actual: this.length });
    }
    r.count(this.length, this.offset);
    await r.load(this.offset, this.length, this.offset + this.length);
    return r.view(this.offset, this.length).slice();
  }

  /** Read the current length-delimited payload as UTF-8 text (BAD_HEADER when it is not). */
  async string(max: number, what: string, onTooLarge?: () => CntError): Promise<string> {
    const raw = await this.bytes(max, what, onTooLarge);
    try {
      return utf8.decode(raw);
    } catch (error) {
      throw this.reader.error("BAD_HEADER", `${what} at byte ${formatCount(this.offset)} is not valid UTF-8.`, this.offset, { cause: error });
    }
  }

  /** Walk the current length-delimited payload as a message one level deeper. */
  child(what: string): Message {
    const r = this.reader;
    if (this.depth + 1 > r.options.maxDepth) {
      throw r.error(
        "TOO_LARGE",
        `${what} at byte ${formatCount(this.offset)} is nested ${this.depth + 1} messages deep, above the limit maxDepth = ${r.options.maxDepth}; raise it in options.limits if the file is trusted.`,
        this.offset,
        { expected: r.options.maxDepth, actual: this.depth + 1 },
      );
    }
    return new Message(r, this.offset, this.offset + this.length, this.depth + 1);
  }

  /**
   * Visit the varints of the current field, packed (wire 2: a run of varints) or not (one value).
   * `each` gets the value's halves; the payload is read in bounded pieces, counted as decoded.
   */
  async varints(each: (lo: number, hi: number, at: number) => void): Promise<void> {
    if (this.wire === WIRE_VARINT) {
      each(this.lo, this.hi, this.at);
      return;
    }
    if (this.wire !== WIRE_LEN) throw this.wrongWire("varints");
    const r = this.reader;
    const end = this.offset + this.length;
    let p = this.offset;
    while (p < end) {
      const need = Math.min(10, end - p);
      if (!r.has(p, need)) await r.load(p, need, end);
      const start = p;
      let lo = 0, hi = 0, shift = 0, b: number;
      do {
        if (p >= end) throw r.error("BAD_HEADER", `a packed varint at byte ${formatCount(start)} runs past the end of its field (byte ${formatCount(end)}).`, start);
        b = r.byte(p++);
        if (shift < 28) lo |= (b & 0x7f) << shift;
        else if (shift === 28) { lo |= (b & 0x0f) << 28; hi = (b & 0x7f) >> 4; }
        else hi |= (b & 0x7f) << (shift - 32);
        if (p - start === 10) {
          if (b & 0x80) throw r.error("BAD_HEADER", `a varint at byte ${formatCount(start)} is longer than 10 bytes.`, start);
          if (b > 1) throw r.error("BAD_HEADER", `a varint at byte ${formatCount(start)} overflows 64 bits.`, start);
        }
        shift += 7;
      } while (b & 0x80);
      each(lo >>> 0, hi >>> 0, start);
    }
    r.count(this.length, this.offset);
  }

  /** A CntError for a field of the wrong wire type. */
  wrongWire(expected: string): CntError {
    return this.reader.error("BAD_HEADER", `field ${this.field} at byte ${formatCount(this.at)} has wire type ${this.wire}, but ${expected} were expected.`, this.at);
  }

  private int64Text(): string {
    return String(BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo)));
  }

  /** Check that `length` bytes from `pos` fit in the file (TRUNCATED) and in this message (BAD_HEADER). */
  private checkRoom(length: number, what: string): void {
    const r = this.reader;
    if (this.pos + length > r.size) {
      throw r.error("TRUNCATED", `${what} at byte ${formatCount(this.at)} declares ${formatCount(length)} bytes, but the file ends ${formatCount(r.size - this.pos)} bytes later; the file is truncated.`, this.at, { expected: this.pos + length, actual: r.size });
    }
    if (this.pos + length > this.end) {
      throw r.error("BAD_HEADER", `${what} at byte ${formatCount(this.at)} declares ${formatCount(length)} bytes, past the end of its enclosing message at byte ${formatCount(this.end)}.`, this.at, { expected: this.end - this.pos, actual: length });
    }
  }

  private fixed(n: number): void {
    this.offset = this.pos;
    this.length = n;
    this.checkRoom(n, `field ${this.field}`);
    this.pos += n;
  }

  /** Decode a varint at `pos` from the window (next() loaded 20 bytes or up to the message end). */
  private readVarint(what: string): void {
    const r = this.reader;
    const start = this.pos;
    let lo = 0, hi = 0, shift = 0, b: number;
    do {
      if (this.pos >= this.end) {
        if (this.end >= r.size) throw r.error("TRUNCATED", `${what} at byte ${formatCount(start)} is cut off by the end of the file; the file is truncated.`, start, { expected: start + 1, actual: r.size });
        throw r.error("BAD_HEADER", `${what} at byte ${formatCount(start)} runs past the end of its enclosing message at byte ${formatCount(this.end)}.`, start);
      }
      b = r.byte(this.pos++);
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) { lo |= (b & 0x0f) << 28; hi = (b & 0x7f) >> 4; }
      else hi |= (b & 0x7f) << (shift - 32);
      if (this.pos - start === 10) {
        if (b & 0x80) throw r.error("BAD_HEADER", `${what} at byte ${formatCount(start)} is a varint longer than 10 bytes.`, start);
        if (b > 1) throw r.error("BAD_HEADER", `${what} at byte ${formatCount(start)} is a varint that overflows 64 bits.`, start);
      }
      shift += 7;
    } while (b & 0x80);
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }
}
