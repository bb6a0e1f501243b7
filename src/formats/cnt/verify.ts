/**
 * Verifier for the `.cnt` FlatBuffers header (docs: hostile-inputs.md section 4, rules 3-8).
 *
 * The flatbuffers TS runtime has no verifier: its accessors follow any offset they are given, so a
 * forged header would make them read garbage or throw engine RangeErrors. This module walks the
 * copied header once, checking every offset, vtable, vector, string, enum and required field our
 * schema can reach, before read.ts lets a generated accessor see the bytes. It mirrors the field
 * order of schemas/model.fbs (slot i lives at vtable entry 4 + 2i); fields a newer writer appends
 * beyond our schema are skipped, as FlatBuffers intends.
 */
import { CntError, formatCount, quoteName, type CntErrorCode } from "../../errors.js";
import { checkLimit, type Limits } from "../../model/limits.js";
import { ACTIVATION_CODES, DTYPE_CODES, LAYER_KIND_CODES, WEIGHT_LAYOUT_CODES } from "./enums.js";
import { FILE_IDENTIFIER, MAX_CONSTANT_VALUES, MAX_FLATBUFFER_BYTES, PREFIX_BYTES } from "./layout.js";

type Field =
  | { name: string; kind: "enum"; codes: readonly string[]; code?: CntErrorCode }
  | { name: string; kind: "bool" | "u16" | "u64" | "f64" }
  | { name: string; kind: "string"; required?: boolean }
  /** 8-byte scalars; `limit` is a configurable bound (TOO_LARGE), `max` a fixed one of the format (BAD_HEADER). */
  | { name: string; kind: "vec8"; limit?: keyof Limits; max?: number }
  | { name: string; kind: "strings"; limit?: keyof Limits }
  | { name: string; kind: "table"; table: TableDef }
  | { name: string; kind: "tables"; table: TableDef; limit?: keyof Limits };

interface TableDef {
  name: string;
  /** Index = field slot in the schema. */
  fields: readonly Field[];
}

const ATTRIBUTE: TableDef = {
  name: "Attribute",
  fields: [
    { name: "key", kind: "string", required: true },
    { name: "ints", kind: "vec8" },
    { name: "floats", kind: "vec8" },
    { name: "text", kind: "string" },
    { name: "list", kind: "bool" },
  ],
};

const LAYER: TableDef = {
  name: "Layer",
  fields: [
    { name: "name", kind: "string", required: true },
    { name: "kind", kind: "enum", codes: LAYER_KIND_CODES },
    { name: "weight", kind: "string" },
    { name: "weight_layout", kind: "enum", codes: WEIGHT_LAYOUT_CODES },
    { name: "bias", kind: "string" },
    { name: "activation", kind: "enum", codes: ACTIVATION_CODES },
    { name: "attributes", kind: "tables", table: ATTRIBUTE },
    { name: "recurrent_weight", kind: "string" },
    { name: "recurrent_bias", kind: "string" },
    // A node reads and writes values, never more than a file can name: maxTensors bounds each list.
    { name: "inputs", kind: "strings", limit: "maxTensors" },
    { name: "outputs", kind: "strings", limit: "maxTensors" },
    { name: "has_inputs", kind: "bool" },
    { name: "has_outputs", kind: "bool" },
  ],
};

const TENSOR: TableDef = {
  name: "Tensor",
  fields: [
    { name: "name", kind: "string", required: true },
    { name: "dtype", kind: "enum", codes: DTYPE_CODES, code: "BAD_DTYPE" },
    { name: "shape", kind: "vec8", limit: "maxRank" },
    { name: "offset", kind: "u64" },
    { name: "length", kind: "u64" },
    { name: "has_stats", kind: "bool" },
    { name: "min", kind: "f64" },
    { name: "max", kind: "f64" },
    { name: "nan", kind: "u64" },
    { name: "pos_inf", kind: "u64" },
    { name: "neg_inf", kind: "u64" },
  ],
};

const KEY_VALUE: TableDef = {
  name: "KeyValue",
  fields: [
    { name: "key", kind: "string", required: true },
    { name: "value", kind: "string" },
  ],
};

const GRAPH_INPUT: TableDef = {
  name: "GraphInput",
  fields: [
    { name: "name", kind: "string", required: true },
    { name: "shape", kind: "vec8", limit: "maxRank" },
    { name: "has_shape", kind: "bool" },
    { name: "dtype", kind: "string" },
  ],
};

const CONSTANT: TableDef = {
  name: "Constant",
  fields: [
    { name: "name", kind: "string", required: true },
    { name: "shape", kind: "vec8", limit: "maxRank" },
    { name: "values", kind: "vec8", max: MAX_CONSTANT_VALUES },
    { name: "is_float", kind: "bool" },
  ],
};

const VALUE_SHAPE: TableDef = {
  name: "ValueShape",
  fields: [
    { name: "name", kind: "string", required: true },
    { name: "dims", kind: "vec8", limit: "maxRank" },
  ],
};

/** Names in the graph section are values of the file: maxTensors bounds each list. */
const GRAPH: TableDef = {
  name: "Graph",
  fields: [
    { name: "inputs", kind: "tables", table: GRAPH_INPUT, limit: "maxTensors" },
    { name: "outputs", kind: "strings", limit: "maxTensors" },
    { name: "constants", kind: "tables", table: CONSTANT, limit: "maxTensors" },
    { name: "shapes", kind: "tables", table: VALUE_SHAPE, limit: "maxTensors" },
    { name: "has_constants", kind: "bool" },
    { name: "has_shapes", kind: "bool" },
  ],
};

const MODEL: TableDef = {
  name: "Model",
  fields: [
    { name: "format_version", kind: "u16" },
    { name: "producer", kind: "string" },
    { name: "name", kind: "string" },
    { name: "input_shape", kind: "vec8", limit: "maxRank" },
    { name: "layers", kind: "tables", table: LAYER, limit: "maxLayers" },
    { name: "tensors", kind: "tables", table: TENSOR, limit: "maxTensors" },
    { name: "metadata", kind: "tables", table: KEY_VALUE },
    { name: "data_format", kind: "string" },
    { name: "graph", kind: "table", table: GRAPH },
  ],
};

/** The tables the verifier knows, by schema name; test/formats/cnt/schema.test.ts compares them with schemas/model.fbs. */
export const VERIFIED_TABLES: ReadonlyMap<string, readonly { name: string; kind: string }[]> = new Map(
  [ATTRIBUTE, LAYER, TENSOR, KEY_VALUE, GRAPH_INPUT, CONSTANT, VALUE_SHAPE, GRAPH, MODEL].map((t) => [t.name, t.fields]),
);

/** Bytes a field occupies inside its table: scalars inline, everything else a 4-byte uoffset. */
const INLINE_SIZE: Record<Field["kind"], number> = { enum: 1, bool: 1, u16: 2, u64: 8, f64: 8, string: 4, vec8: 4, strings: 4, table: 4, tables: 4 };

/** FlatBuffers voffsets are u16 but the TS runtime reads them with readInt16; refuse what it would misread. */
const MAX_VOFFSET = 0x7fff;

/**
 * Throw unless `header` (the FlatBuffer alone, prefix removed, in its own buffer) is a well-formed
 * `.cnt` Model that the generated accessors can read without leaving it.
 * @example verifyCntHeader(headerBytes, { file: source.name, limits })
 */
export function verifyCntHeader(header: Uint8Array, options: { file: string; limits: Limits }): void {
  new Verifier(header, options.file, options.limits).run();
}

class Verifier {
  private readonly view: DataView;
  private readonly size: number;
  private tables = 0;
  /** Bytes of strings and vectors reached so far, counted at each reference (see charge). */
  private referenced = 0;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(private readonly bytes: Uint8Array, private readonly file: string, private readonly limits: Limits) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.size = bytes.byteLength;
  }

  run(): void {
    if (this.size > MAX_FLATBUFFER_BYTES) {
      this.fail("TOO_LARGE", "header", 0, `is ${formatCount(this.size)} bytes, above the FlatBuffers maximum of ${formatCount(MAX_FLATBUFFER_BYTES)}`);
    }
    // Root uoffset (4) + file identifier (4) + the root table's soffset (4).
    if (this.size < 12) {
      this.fail("BAD_HEADER", "header", 0, `is ${formatCount(this.size)} bytes, but a FlatBuffer needs at least 12`);
    }
    const id = String.fromCharCode(...this.bytes.subarray(4, 8));
    if (id !== FILE_IDENTIFIER) {
      this.fail("BAD_MAGIC", "file identifier", 4, `is ${quoteName(id)}, expected '${FILE_IDENTIFIER}'`);
    }
    this.table(this.uoffset(0, "root offset"), MODEL, "Model", 1);
  }

  /** Follow the uoffset stored at `at`: unsigned, non-zero, so forward only; target aligned and in range. */
  private uoffset(at: number, path: string): number {
    const off = this.view.getUint32(at, true);
    if (off === 0) this.fail("BAD_HEADER", path, at, "is a zero offset");
    // Plain JS addition cannot wrap, so an offset that would point back to a parent in 32-bit
    // arithmetic (a cycle) lands past the end here and is refused.
    const target = at + off;
    if (target + 4 > this.size) {
      this.fail("BAD_HEADER", path, at, `points to byte ${formatCount(target)}, past the end of the ${formatCount(this.size)}-byte header`);
    }
    if (target % 4 !== 0) this.fail("BAD_HEADER", path, at, `points to byte ${formatCount(target)}, which is not 4-byte aligned`);
    return target;
  }

  private table(pos: number, def: TableDef, path: string, depth: number): void {
    checkLimit(this.limits, "maxDepth", depth, `FlatBuffers nesting depth at ${path} in ${quoteName(this.file)}`, this.details());
    this.tables += 1;
    checkLimit(this.limits, "maxTables", this.tables, `Number of FlatBuffers tables in ${quoteName(this.file)}`, this.details());

    const vt = pos - this.view.getInt32(pos, true);
    if (vt < 0 || vt + 4 > this.size || vt % 2 !== 0) {
      this.fail("BAD_HEADER", `${path} vtable`, pos, `is at byte ${formatCount(vt)}, outside the header or misaligned`);
    }
    const vtSize = this.view.getUint16(vt, true);
    const tableSize = this.view.getUint16(vt + 2, true);
    if (vtSize < 4 || vtSize % 2 !== 0 || vtSize > MAX_VOFFSET) {
      this.fail("BAD_HEADER", `${path} vtable`, vt, `has size ${vtSize}; it must be even, at least 4 and at most ${MAX_VOFFSET}`);
    }
    if (vt + vtSize > this.size) {
      this.fail("BAD_HEADER", `${path} vtable`, vt, `of ${vtSize} bytes runs past the end of the ${formatCount(this.size)}-byte header`);
    }
    if (tableSize < 4 || pos + tableSize > this.size) {
      this.fail("BAD_HEADER", path, pos, `declares an inline size of ${tableSize} bytes, which does not fit in the header`);
    }

    def.fields.forEach((field, slot) => {
      const entry = 4 + 2 * slot;
      const fieldOffset = entry < vtSize ? this.view.getUint16(vt + entry, true) : 0;
      const fieldPath = `${path}.${field.name}`;
      if (fieldOffset === 0) {
        if (field.kind === "string" && field.required) this.fail("BAD_HEADER", fieldPath, pos, "is required but missing");
        return;
      }
      const width = INLINE_SIZE[field.kind];
      // Bytes 0..3 of a table hold its vtable soffset, so no field may start there.
      if (fieldOffset < 4 || fieldOffset > MAX_VOFFSET || fieldOffset + width > tableSize) {
        this.fail("BAD_HEADER", fieldPath, pos, `sits at table offset ${fieldOffset}, outside the table's ${tableSize} inline bytes`);
      }
      const at = pos + fieldOffset;
      if (at % width !== 0) this.fail("BAD_HEADER", fieldPath, at, `is not ${width}-byte aligned`);
      this.field(field, at, fieldPath, depth);
    });
  }

  private field(field: Field, at: number, path: string, depth: number): void {
    switch (field.kind) {
      case "enum": {
        const value = this.view.getUint8(at);
        if (value >= field.codes.length) {
          const known = field.codes.map((name, code) => `${code} (${name})`).join(", ");
          this.fail(field.code ?? "BAD_HEADER", path, at, `is ${value}, not one of the known values ${known}`);
        }
        return;
      }
      case "bool": {
        const value = this.view.getUint8(at);
        if (value > 1) this.fail("BAD_HEADER", path, at, `is ${value}, not a boolean 0 or 1`);
        return;
      }
      case "u16":
      case "u64":
      case "f64":
        return; // any bit pattern is a value; read.ts checks what the numbers mean
      case "string":
        this.string(at, path);
        return;
      case "vec8": {
        const { target, count } = this.vector(at, path, 8, field.limit);
        if (field.max !== undefined && count > field.max) {
          this.fail("BAD_HEADER", path, target, `declares ${formatCount(count)} elements, but the format allows at most ${formatCount(field.max)}`);
        }
        return;
      }
      case "strings": {
        const { start, count } = this.vector(at, path, 4, field.limit);
        for (let i = 0; i < count; i++) this.string(start + 4 * i, `${path}[${i}]`);
        return;
      }
      case "table":
        this.table(this.uoffset(at, path), field.table, path, depth + 1);
        return;
      case "tables": {
        const { start, count } = this.vector(at, path, 4, field.limit);
        for (let i = 0; i < count; i++) {
          const elementPath = `${path}[${i}]`;
          this.table(this.uoffset(start + 4 * i, elementPath), field.table, elementPath, depth + 1);
        }
        return;
      }
    }
  }

  /** Check a vector's length against the bytes that remain before anything loops over it. */
  private vector(at: number, path: string, elementSize: number, limit?: keyof Limits): { target: number; start: number; count: number } {
    const target = this.uoffset(at, path);
    const count = this.view.getUint32(target, true);
    const start = target + 4;
    const remaining = this.size - start;
    if (count > Math.floor(remaining / elementSize)) {
      this.fail("OUT_OF_BOUNDS", path, target, `declares ${formatCount(count)} elements of ${elementSize} bytes, but only ${formatCount(remaining)} bytes remain in the header`);
    }
    if (limit) checkLimit(this.limits, limit, count, `Length of ${path} in ${quoteName(this.file)}`, this.details());
    if (start % elementSize !== 0) this.fail("BAD_HEADER", path, target, `has elements at byte ${formatCount(start)}, which is not ${elementSize}-byte aligned`);
    this.charge(4 + count * elementSize);
    return { target, start, count };
  }

  /**
   * Count the bytes a string or vector makes the reader decode, once per reference. Our writer
   * never shares one, so its files stay within their own size; a forged header that points many
   * references (a layer's 100,000 inputs, a thousand constants) at one large string or vector
   * would otherwise make the reader decode and hold far more than maxHeaderBytes.
   */
  private charge(bytes: number): void {
    this.referenced += bytes;
    checkLimit(this.limits, "maxHeaderBytes", this.referenced, `Total bytes of the strings and vectors the header of ${quoteName(this.file)} refers to (each reference counted)`, this.details());
  }

  /**
   * Strings: length in range, NUL after the last byte, at most maxNameBytes, valid UTF-8. The
   * limit applies to every string (names, references, metadata, attribute text), as the spec says.
   */
  private string(at: number, path: string): void {
    const target = this.uoffset(at, path);
    const length = this.view.getUint32(target, true);
    const start = target + 4;
    const remaining = this.size - start;
    if (length >= remaining) {
      this.fail("OUT_OF_BOUNDS", path, target, `declares ${formatCount(length)} bytes plus a NUL, but only ${formatCount(remaining)} bytes remain in the header`);
    }
    checkLimit(this.limits, "maxNameBytes", length, `Byte length of ${path} in ${quoteName(this.file)}`, this.details());
    this.charge(4 + length + 1);
    if (this.bytes[start + length] !== 0) this.fail("BAD_HEADER", path, target, "is not NUL-terminated");
    try {
      this.decoder.decode(this.bytes.subarray(start, start + length));
    } catch (error) {
      this.fail("BAD_HEADER", path, target, "is not valid UTF-8", error);
    }
  }

  private details(): { format: string; file: string } {
    return { format: "cnt", file: this.file };
  }

  private fail(code: CntErrorCode, path: string, headerByte: number, text: string, cause?: unknown): never {
    throw new CntError(
      code,
      `In the .cnt file ${quoteName(this.file)}, the header's ${path} (header byte ${formatCount(headerByte)}) ${text}.`,
      { ...this.details(), offset: PREFIX_BYTES + headerByte, cause },
    );
  }
}
