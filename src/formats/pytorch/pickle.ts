/**
 * A restricted unpickler for PyTorch checkpoints: it reads the opcodes a `torch.save` of a
 * state_dict writes (protocol 2, and the framing/memo opcodes of protocols 3-5) and builds plain
 * values. Nothing is ever executed: a GLOBAL is looked up in a fixed table of names a state_dict
 * needs (collections.OrderedDict, torch._utils._rebuild_tensor_v2, storage types, dtypes, and the
 * numpy scalars and small arrays of training checkpoints, decoded here from their dtype and bytes); any
 * other name (os.system, builtins.eval, a model's own class) is refused with UNSAFE_PICKLE as soon
 * as it is read, and REDUCE, BUILD or NEWOBJ of anything but a known data constructor is refused
 * too. The "calls" below are our own code producing plain values, never Python.
 *
 * Bounded: the input is one in-memory buffer (its size is checked by the caller against
 * maxHeaderBytes); every length is compared with the bytes that remain before anything is
 * allocated; the values built (stack pushes and container items together), the memo and the
 * mark stack share one budget; the unpickler is a loop, never a recursion.
 *
 *   pickle bytes ──opcodes──> stack machine ──> PyDict / PyTuple / list / PyTensor / PyStorage / numbers / strings
 *                                 │ GLOBAL ──> ALLOWED (else UNSAFE_PICKLE)
 *                                 └ BINPERSID ('storage', <StorageType>, key, location, numel) ──> PyStorage
 */
import { CntError, type CntErrorCode, formatCount, quoteName } from "../../errors.js";

/** A Python tuple (lists are plain arrays). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python dict or OrderedDict: keys are strings, numbers, bigints, booleans, null, or objects by identity. */
export class PyDict {
  readonly map = new Map<unknown, PyValue>();
}

/** A name from the allowed table, as a value (a storage type, a dtype, a function not yet called). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string, readonly entry: Allowed) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage named by a persistent id: the bytes of zip entry `data/<key>` (or the legacy file's record). */
export class PyStorage {
  constructor(readonly key: string, readonly dtype: StorageDtype, readonly location: string, readonly numel: number) {}
}

/** A tensor: a view of a storage (element offset, shape, strides, in elements). */
export class PyTensor {
  constructor(readonly storage: PyStorage, readonly offset: number, readonly shape: number[], readonly stride: number[], readonly parameter: boolean) {}
}

/** numpy.dtype(code, align, copy): a type code such as 'f8', 'i8', 'b1' and its byte order (set by BUILD). */
export class PyNumpyDtype {
  byteorder = "=";
  constructor(readonly code: string) {}
}

/** A numpy array from _reconstruct + BUILD: its dtype, shape and raw bytes are kept, never its objects. */
export class PyNumpyArray {
  dtype?: PyNumpyDtype;
  shape: number[] = [];
  /** A numpy scalar whose dtype cntscope does not decode (complex, text): shape [] and no number. */
  constructor(readonly scalar = false) {}
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyGlobal | PyStorage | PyTensor | PyNumpyDtype | PyNumpyArray;

/** Element types of torch storages, with their widths; `float` ones are measured. */
export interface StorageDtype {
  name: string;
  width: number;
  float?: "f32" | "f16" | "bf16" | "f64";
}

const DTYPES: Record<string, StorageDtype> = {
  float32: { name: "float32", width: 4, float: "f32" },
  float16: { name: "float16", width: 2, float: "f16" },
  bfloat16: { name: "bfloat16", width: 2, float: "bf16" },
  float64: { name: "float64", width: 8, float: "f64" },
  int64: { name: "int64", width: 8 },
  int32: { name: "int32", width: 4 },
  int16: { name: "int16", width: 2 },
  int8: { name: "int8", width: 1 },
  uint8: { name: "uint8", width: 1 },
  uint16: { name: "uint16", width: 2 },
  uint32: { name: "uint32", width: 4 },
  uint64: { name: "uint64", width: 8 },
  float8_e4m3fn: { name: "float8_e4m3fn", width: 1 },
  float8_e5m2: { name: "float8_e5m2", width: 1 },
  bool: { name: "bool", width: 1 },
  complex64: { name: "complex64", width: 8 },
  complex128: { name: "complex128", width: 16 },
};

/** What an allowed global is. */
export type Allowed =
  | { kind: "storage"; dtype: StorageDtype }
  | { kind: "dtype"; dtype: StorageDtype }
  | { kind: "call"; call: "OrderedDict" | "rebuild_tensor_v2" | "rebuild_tensor_v3" | "rebuild_tensor" | "rebuild_parameter" | "rebuild_parameter_with_state" | "Size" | "codecs_encode" | "set" | NumpyCall | "rebuild_from_type_v2" }
  /** A class named only as an argument of a data constructor (numpy.ndarray for _reconstruct, torch.Tensor for _rebuild_from_type_v2); calling it is refused. */
  | { kind: "class"; parameter?: boolean };

/** numpy's data constructors in a training checkpoint (best_acc, epoch, small arrays), decoded by our own code. */
type NumpyCall = "numpy_scalar" | "numpy_dtype" | "numpy_reconstruct";

/** The whole table of names a checkpoint may use; anything else is UNSAFE_PICKLE. */
const ALLOWED = new Map<string, Allowed>([
  ["collections OrderedDict", { kind: "call", call: "OrderedDict" }],
  ["torch._utils _rebuild_tensor_v2", { kind: "call", call: "rebuild_tensor_v2" }],
  ["torch._utils _rebuild_tensor", { kind: "call", call: "rebuild_tensor" }],
  // torch 2.x, for dtypes without a typed storage (uint16/32/64): an untyped storage and the dtype.
  ["torch._utils _rebuild_tensor_v3", { kind: "call", call: "rebuild_tensor_v3" }],
  ["torch._utils _rebuild_parameter", { kind: "call", call: "rebuild_parameter" }],
  ["torch._utils _rebuild_parameter_with_state", { kind: "call", call: "rebuild_parameter_with_state" }],
  ["torch Size", { kind: "call", call: "Size" }],
  // Protocol 2 pickles a bytes object as _codecs.encode(text, 'latin1'); we decode it ourselves.
  ["_codecs encode", { kind: "call", call: "codecs_encode" }],
  ["builtins set", { kind: "call", call: "set" }],
  // numpy scalars and small arrays (numpy 1.x writes numpy.core, 2.x numpy._core): plain values, nothing of numpy runs.
  ["numpy.core.multiarray scalar", { kind: "call", call: "numpy_scalar" }],
  ["numpy._core.multiarray scalar", { kind: "call", call: "numpy_scalar" }],
  ["numpy.core.multiarray _reconstruct", { kind: "call", call: "numpy_reconstruct" }],
  ["numpy._core.multiarray _reconstruct", { kind: "call", call: "numpy_reconstruct" }],
  ["numpy dtype", { kind: "call", call: "numpy_dtype" }],
  ["numpy ndarray", { kind: "class" }],
  // A tensor with Python attributes or of a subclass: (rebuild function, type, args, state); only these two types.
  ["torch._utils _rebuild_from_type_v2", { kind: "call", call: "rebuild_from_type_v2" }],
  ["torch._tensor _rebuild_from_type_v2", { kind: "call", call: "rebuild_from_type_v2" }],
  ["torch Tensor", { kind: "class" }],
  ["torch._tensor Tensor", { kind: "class" }],
  ["torch.nn.parameter Parameter", { kind: "class", parameter: true }],
  ["builtins frozenset", { kind: "call", call: "set" }],
  ["torch FloatStorage", { kind: "storage", dtype: DTYPES.float32 }],
  ["torch HalfStorage", { kind: "storage", dtype: DTYPES.float16 }],
  ["torch BFloat16Storage", { kind: "storage", dtype: DTYPES.bfloat16 }],
  ["torch DoubleStorage", { kind: "storage", dtype: DTYPES.float64 }],
  ["torch LongStorage", { kind: "storage", dtype: DTYPES.int64 }],
  ["torch IntStorage", { kind: "storage", dtype: DTYPES.int32 }],
  ["torch ShortStorage", { kind: "storage", dtype: DTYPES.int16 }],
  ["torch CharStorage", { kind: "storage", dtype: DTYPES.int8 }],
  ["torch ByteStorage", { kind: "storage", dtype: DTYPES.uint8 }],
  ["torch BoolStorage", { kind: "storage", dtype: DTYPES.bool }],
  ["torch ComplexFloatStorage", { kind: "storage", dtype: DTYPES.complex64 }],
  ["torch ComplexDoubleStorage", { kind: "storage", dtype: DTYPES.complex128 }],
  ["torch UntypedStorage", { kind: "storage", dtype: DTYPES.uint8 }],
  ["torch.storage UntypedStorage", { kind: "storage", dtype: DTYPES.uint8 }],
  ...Object.values(DTYPES).map((d): [string, Allowed] => [`torch ${d.name}`, { kind: "dtype", dtype: d }]),
  ["torch float", { kind: "dtype", dtype: DTYPES.float32 }],
  ["torch half", { kind: "dtype", dtype: DTYPES.float16 }],
  ["torch double", { kind: "dtype", dtype: DTYPES.float64 }],
  ["torch long", { kind: "dtype", dtype: DTYPES.int64 }],
]);

export interface UnpickleOptions {
  /** Values (stack pushes and container items), memo entries and marks allowed in all. */
  maxValues: number;
  /** Called for a `('storage', ...)` persistent id; returns the storage (it may check the key). */
  storage?: (id: PyTuple) => PyStorage;
  fail: (code: CntErrorCode, message: string, extra?: object) => CntError;
}

const MARK = Symbol("mark");
type Slot = PyValue | typeof MARK;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/**
 * Run the pickle program in `bytes` from `start` to its STOP opcode and return the value it
 * builds, and the offset after STOP (the legacy format pickles several objects in a row).
 * @example
 *   const { value } = unpickle(dataPkl, 0, { maxValues: 1 << 20, fail });
 */
export function unpickle(bytes: Uint8Array, start: number, options: UnpickleOptions): { value: PyValue; end: number } {
  const { fail, maxValues } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength;
  const stack: Slot[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  let budget = maxValues;
  let p = start;

  const spend = (k: number) => {
    budget -= k;
    if (budget < 0) throw fail("TOO_LARGE", `the pickle builds more than ${formatCount(maxValues)} values (the larger of 2^20 and 32 x maxTensors); raise limits.maxTensors if the file is trusted.`, { expected: maxValues });
  };
  const need = (k: number, what: string) => {
    if (k > n - p || k < 0) throw fail("TRUNCATED", `the pickle's ${what} at byte ${formatCount(p)} needs ${formatCount(k)} bytes but ${formatCount(n - p)} remain.`, { offset: p, expected: k, actual: n - p });
  };
  const push = (v: Slot) => {
    spend(1);
    stack.push(v);
  };
  const pop = (what: string): PyValue => {
    const floor = marks.length > 0 ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) throw fail("BAD_HEADER", `the pickle's ${what} at byte ${formatCount(op)} finds the stack empty.`, { offset: op });
    return stack.pop() as PyValue;
  };
  const top = (what: string): PyValue => {
    const floor = marks.length > 0 ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) throw fail("BAD_HEADER", `the pickle's ${what} at byte ${formatCount(op)} finds the stack empty.`, { offset: op });
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (what: string): PyValue[] => {
    const at = marks.pop();
    if (at === undefined) throw fail("BAD_HEADER", `the pickle's ${what} at byte ${formatCount(op)} has no MARK before it.`, { offset: op });
    const items = stack.splice(at) as PyValue[];
    return items;
  };
  const text = (length: number, what: string, decoder: TextDecoder): string => {
    need(length, what);
    // Short ASCII strings (names, keys, 'storage', 'cpu') without a decoder call: the same text, faster.
    if (length <= 64) {
      let ascii = true;
      for (let i = p; i < p + length; i++) if (bytes[i] >= 0x80) { ascii = false; break; }
      if (ascii) {
        const s = String.fromCharCode(...bytes.subarray(p, p + length));
        p += length;
        return s;
      }
    }
    let s: string;
    try {
      s = decoder.decode(bytes.subarray(p, p + length));
    } catch (error) {
      throw fail("BAD_HEADER", `the pickle's ${what} at byte ${formatCount(p)} is not valid UTF-8.`, { offset: p, cause: error });
    }
    p += length;
    return s;
  };
  const blob = (length: number, what: string): Uint8Array => {
    need(length, what);
    const b = bytes.slice(p, p + length);
    p += length;
    return b;
  };
  const u8 = (what: string) => {
    need(1, what);
    return bytes[p++];
  };
  const u16 = (what: string) => {
    need(2, what);
    const v = view.getUint16(p, true);
    p += 2;
    return v;
  };
  const u32 = (what: string) => {
    need(4, what);
    const v = view.getUint32(p, true);
    p += 4;
    return v;
  };
  const u64 = (what: string) => {
    need(8, what);
    const v = view.getBigUint64(p, true);
    p += 8;
    // Any 8-byte length above the remaining bytes fails need() in the caller.
    return v > BigInt(n) ? n + 1 : Number(v);
  };
  const line = (what: string): string => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) throw fail("TRUNCATED", `the pickle's ${what} at byte ${formatCount(p)} has no end of line.`, { offset: p });
    const s = latin1.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const long = (length: number, what: string): number | bigint => {
    if (length > 64) throw fail("BAD_HEADER", `the pickle's ${what} at byte ${formatCount(p)} is an integer of ${formatCount(length)} bytes; a checkpoint needs at most 8.`, { offset: p });
    need(length, what);
    let v = 0n;
    for (let i = length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]);
    if (length > 0 && bytes[p + length - 1] & 0x80) v -= 1n << BigInt(8 * length);
    p += length;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const globals = new Map<string, PyGlobal>();
  const global = (module: string, name: string): PyGlobal => {
    const known = globals.get(`${module} ${name}`);
    if (known) return known;
    const entry = ALLOWED.get(`${module} ${name}`);
    if (!entry) {
      const what = `${module}.${name}`;
      throw fail("UNSAFE_PICKLE", `the pickle asks for the Python global ${quoteName(what)}, which is not one a state_dict needs; cntscope never imports or calls anything from a checkpoint. If this is a whole pickled model, save its state_dict (torch.save(model.state_dict(), path)) or convert it to safetensors.`, { offset: op, actual: what });
    }
    const g = new PyGlobal(module, name, entry);
    globals.set(`${module} ${name}`, g);
    return g;
  };
  const memoPut = (index: number) => {
    const v = top("memo store");
    if (!memo.has(index)) spend(1);
    memo.set(index, v);
  };

  let op = p;
  for (;;) {
    op = p;
    const code = u8("opcode");
    switch (code) {
      case 0x80: { // PROTO
        const version = u8("protocol version");
        if (version > 5) throw fail("BAD_HEADER", `the pickle declares protocol ${version}; Python writes 0 to 5.`, { offset: op });
        break;
      }
      case 0x95: { // FRAME: a length prefix we do not need
        const length = u64("frame length");
        need(length, "frame");
        break;
      }
      case 0x2e: { // STOP
        const value = pop("STOP");
        return { value, end: p };
      }
      case 0x28: // MARK
        spend(1);
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (stack.length > (marks.length > 0 ? marks[marks.length - 1] : 0)) stack.pop();
        else popMark("POP");
        break;
      case 0x31: // POP_MARK
        popMark("POP_MARK");
        break;
      case 0x32: // DUP
        push(top("DUP"));
        break;
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x4a: { need(4, "BININT"); const v = view.getInt32(p, true); p += 4; push(v); break; }
      case 0x4b: push(u8("BININT1")); break;
      case 0x4d: push(u16("BININT2")); break;
      case 0x8a: push(long(u8("LONG1 length"), "LONG1")); break;
      case 0x8b: { const length = u32("LONG4 length"); push(long(length, "LONG4")); break; }
      case 0x47: { need(8, "BINFLOAT"); const v = view.getFloat64(p, false); p += 8; push(v); break; }
      case 0x58: { const length = u32("BINUNICODE length"); push(text(length, "BINUNICODE", utf8)); break; }
      case 0x8c: { const length = u8("SHORT_BINUNICODE length"); push(text(length, "SHORT_BINUNICODE", utf8)); break; }
      case 0x8d: { const length = u64("BINUNICODE8 length"); push(text(length, "BINUNICODE8", utf8)); break; }
      // Python 2 str (protocol 1-2 from Python 2): bytes, read as Latin-1 text like torch's encoding='latin1'.
      case 0x54: { const length = u32("BINSTRING length"); push(text(length, "BINSTRING", latin1)); break; }
      case 0x55: { const length = u8("SHORT_BINSTRING length"); push(text(length, "SHORT_BINSTRING", latin1)); break; }
      case 0x42: { const length = u32("BINBYTES length"); push(blob(length, "BINBYTES")); break; }
      case 0x43: { const length = u8("SHORT_BINBYTES length"); push(blob(length, "SHORT_BINBYTES")); break; }
      case 0x8e: { const length = u64("BINBYTES8 length"); push(blob(length, "BINBYTES8")); break; }
      case 0x5d: push([]); break; // EMPTY_LIST
      case 0x7d: push(new PyDict()); break; // EMPTY_DICT
      case 0x29: push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x8f: push([]); break; // EMPTY_SET: a list of its items
      case 0x85: { const a = pop("TUPLE1"); push(new PyTuple([a])); break; }
      case 0x86: { const b = pop("TUPLE2"); const a = pop("TUPLE2"); push(new PyTuple([a, b])); break; }
      case 0x87: { const c = pop("TUPLE3"); const b = pop("TUPLE3"); const a = pop("TUPLE3"); push(new PyTuple([a, b, c])); break; }
      case 0x74: { const items = popMark("TUPLE"); push(new PyTuple(items)); break; } // TUPLE
      case 0x6c: { const items = popMark("LIST"); push(items); break; } // LIST
      case 0x91: { const items = popMark("FROZENSET"); push(items); break; } // FROZENSET
      case 0x64: { // DICT
        const items = popMark("DICT");
        const d = new PyDict();
        setItems(d, items, op);
        push(d);
        break;
      }
      case 0x61: { // APPEND
        const v = pop("APPEND");
        const list = top("APPEND");
        if (!Array.isArray(list)) throw notA("list", list, "APPEND");
        spend(1);
        list.push(v);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: { // ADDITEMS
        const items = popMark(code === 0x65 ? "APPENDS" : "ADDITEMS");
        const list = top(code === 0x65 ? "APPENDS" : "ADDITEMS");
        if (!Array.isArray(list)) throw notA("list", list, "APPENDS");
        spend(items.length);
        for (const v of items) list.push(v);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop("SETITEM");
        const k = pop("SETITEM");
        const d = top("SETITEM");
        if (!(d instanceof PyDict)) throw notA("dict", d, "SETITEM");
        setItems(d, [k, v], op);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark("SETITEMS");
        const d = top("SETITEMS");
        if (!(d instanceof PyDict)) throw notA("dict", d, "SETITEMS");
        setItems(d, items, op);
        break;
      }
      case 0x71: memoPut(u8("BINPUT index")); break; // BINPUT
      case 0x72: memoPut(u32("LONG_BINPUT index")); break; // LONG_BINPUT
      case 0x94: memoPut(memo.size); break; // MEMOIZE
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const index = code === 0x68 ? u8("BINGET index") : u32("LONG_BINGET index");
        if (!memo.has(index)) throw fail("BAD_HEADER", `the pickle reads memo entry ${formatCount(index)} at byte ${formatCount(op)}, which was never stored.`, { offset: op });
        push(memo.get(index)!);
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line("GLOBAL module");
        const name = line("GLOBAL name");
        push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop("STACK_GLOBAL");
        const module = pop("STACK_GLOBAL");
        if (typeof module !== "string" || typeof name !== "string") throw fail("BAD_HEADER", `the pickle's STACK_GLOBAL at byte ${formatCount(op)} is not given two strings.`, { offset: op });
        push(global(module, name));
        break;
      }
      case 0x51: { // BINPERSID
        const id = pop("BINPERSID");
        push(persistent(id));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop("REDUCE");
        const callable = pop("REDUCE");
        push(call(callable, args, "REDUCE"));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args); only dict-like classes
        const args = pop("NEWOBJ");
        const cls = pop("NEWOBJ");
        if (cls instanceof PyGlobal && cls.entry.kind === "call" && cls.entry.call === "OrderedDict" && args instanceof PyTuple && args.items.length === 0) push(new PyDict());
        else throw unsafeCall(cls, "NEWOBJ");
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop("NEWOBJ_EX");
        pop("NEWOBJ_EX");
        throw unsafeCall(pop("NEWOBJ_EX"), "NEWOBJ_EX");
      }
      case 0x62: { // BUILD: obj.__setstate__(state); an OrderedDict's state is its attributes (torch's _metadata), dropped
        const state = pop("BUILD");
        const obj = top("BUILD");
        if (obj instanceof PyDict && (state instanceof PyDict || state === null)) break;
        if (obj instanceof PyTensor && (state === null || state instanceof PyDict || state instanceof PyTuple)) break;
        if (obj instanceof PyNumpyDtype && state instanceof PyTuple) {
          // (version, byteorder, subarray, names, fields, elsize, alignment, flags): only the byte order is read.
          const order = state.items[1];
          if (typeof order === "string" && /^[<>|=]$/.test(order)) obj.byteorder = order;
          break;
        }
        if (obj instanceof PyNumpyArray && !obj.scalar && state instanceof PyTuple) {
          numpyArrayState(obj, state);
          break;
        }
        throw fail("UNSAFE_PICKLE", `the pickle's BUILD at byte ${formatCount(op)} sets the state of ${describe(obj)}, which a state_dict never does; cntscope never runs a __setstate__.`, { offset: op });
      }
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: { // EXT4
        let what = "an object from the copyreg extension registry";
        if (code === 0x69) what = `an instance of ${quoteName(`${line("INST module")}.${line("INST name")}`)}`;
        if (code === 0x6f) what = "an instance of a class on the stack (OBJ)";
        throw fail("UNSAFE_PICKLE", `the pickle asks at byte ${formatCount(op)} for ${what}; cntscope never imports or calls anything from a checkpoint.`, { offset: op });
      }
      case 0x50: // PERSID (protocol 0)
        push(persistent(line("PERSID")));
        break;
      default:
        throw fail("BAD_HEADER", `the pickle has opcode 0x${code.toString(16).padStart(2, "0")} at byte ${formatCount(op)}, which torch.save does not write (text protocol 0 opcodes and unknown bytes are not read).`, { offset: op });
    }
  }

  function setItems(d: PyDict, items: PyValue[], at: number): void {
    if (items.length % 2 !== 0) throw fail("BAD_HEADER", `the pickle's dict update at byte ${formatCount(at)} has an odd number of items (${formatCount(items.length)}).`, { offset: at });
    spend(items.length / 2);
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      // Keys are hashable Python values: numbers and strings by value, tuples and others by identity.
      d.map.set(k, items[i + 1]);
    }
  }

  function notA(kind: string, value: PyValue, what: string): CntError {
    return fail("BAD_HEADER", `the pickle's ${what} at byte ${formatCount(op)} needs a ${kind} below it, not ${describe(value)}.`, { offset: op });
  }

  function unsafeCall(callable: PyValue, what: string): CntError {
    const name = callable instanceof PyGlobal ? callable.qualified : describe(callable);
    return fail("UNSAFE_PICKLE", `the pickle's ${what} at byte ${formatCount(op)} calls ${quoteName(name)} in a way a state_dict never does; cntscope never calls anything from a checkpoint.`, { offset: op, actual: name });
  }

  function persistent(id: PyValue): PyValue {
    if (!(id instanceof PyTuple) || id.items[0] !== "storage") {
      throw fail("BAD_HEADER", `the pickle's persistent id at byte ${formatCount(op)} is ${describe(id)}, not a ('storage', type, key, location, size) tuple.`, { offset: op });
    }
    if (!options.storage) throw fail("BAD_HEADER", `the pickle names a storage at byte ${formatCount(op)} where none may be.`, { offset: op });
    return options.storage(id);
  }

  function call(callable: PyValue, args: PyValue, what: string): PyValue {
    if (!(callable instanceof PyGlobal) || callable.entry.kind !== "call" || !(args instanceof PyTuple)) throw unsafeCall(callable, what);
    const a = args.items;
    const bad = (expected: string) => fail("BAD_HEADER", `the pickle calls ${callable.qualified} at byte ${formatCount(op)} with ${describe(args)}; expected ${expected}.`, { offset: op });
    switch (callable.entry.call) {
      case "OrderedDict": {
        const d = new PyDict();
        if (a.length === 0) return d;
        // OrderedDict([(k, v), ...])
        if (a.length !== 1 || !Array.isArray(a[0])) throw bad("() or a list of pairs");
        for (const pair of a[0]) {
          if (!(pair instanceof PyTuple) || pair.items.length !== 2) throw bad("a list of (key, value) pairs");
          setItems(d, pair.items, op);
        }
        return d;
      }
      case "rebuild_tensor_v2":
      case "rebuild_tensor": {
        // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
        if (a.length < 4 || a.length > 7 || !(a[0] instanceof PyStorage)) throw bad("(storage, offset, size, stride, ...)");
        const offset = a[1];
        if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) throw fail("BAD_SHAPE", `a tensor's storage offset is ${describe(offset)}, not a non-negative integer (pickle byte ${formatCount(op)}).`, { offset: op });
        return new PyTensor(a[0], offset, ints(a[2], "size"), ints(a[3], "stride"), false);
      }
      case "rebuild_tensor_v3": {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[, metadata]): offsets and strides count `dtype` elements of the byte storage.
        const dtype = a[6];
        if (a.length < 7 || a.length > 8 || !(a[0] instanceof PyStorage) || !(dtype instanceof PyGlobal) || dtype.entry.kind !== "dtype") throw bad("(storage, offset, size, stride, requires_grad, hooks, dtype, ...)");
        const offset = a[1];
        if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) throw fail("BAD_SHAPE", `a tensor's storage offset is ${describe(offset)}, not a non-negative integer (pickle byte ${formatCount(op)}).`, { offset: op });
        const s = a[0];
        const as = dtype.entry.dtype;
        const storage = new PyStorage(s.key, as, s.location, Math.floor((s.numel * s.dtype.width) / as.width));
        return new PyTensor(storage, offset, ints(a[2], "size"), ints(a[3], "stride"), false);
      }
      case "rebuild_parameter":
      case "rebuild_parameter_with_state": {
        if (a.length < 3 || a.length > 4 || !(a[0] instanceof PyTensor)) throw bad("(tensor, requires_grad, backward_hooks[, state])");
        const t = a[0];
        return new PyTensor(t.storage, t.offset, t.shape, t.stride, true);
      }
      case "Size":
        if (a.length !== 1 || !(a[0] instanceof PyTuple)) throw bad("a tuple");
        return a[0];
      case "codecs_encode": {
        if (a.length !== 2 || typeof a[0] !== "string" || (a[1] !== "latin1" && a[1] !== "latin-1")) throw bad("(text, 'latin1')");
        const s = a[0];
        const out = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c > 0xff) throw bad("Latin-1 text");
          out[i] = c;
        }
        return out;
      }
      case "set":
        if (a.length === 0) return [];
        if (a.length !== 1 || !Array.isArray(a[0])) throw bad("a list");
        return a[0];
      case "numpy_dtype":
        // numpy.dtype('f8', False, True)
        if (a.length < 1 || a.length > 3 || typeof a[0] !== "string" || !/^[<>|=]?[A-Za-z?][0-9]{0,3}$/.test(a[0])) throw bad("(type code such as 'f8', align, copy)");
        return new PyNumpyDtype(a[0]);
      case "numpy_scalar": {
        // numpy.core.multiarray.scalar(dtype, raw bytes): decoded here by the dtype, never by numpy.
        if (a.length !== 2 || !(a[0] instanceof PyNumpyDtype) || !(a[1] instanceof Uint8Array)) throw bad("(dtype, bytes)");
        const value = decodeScalar(a[0], a[1]);
        return value === undefined ? Object.assign(new PyNumpyArray(true), { dtype: a[0] }) : value;
      }
      case "numpy_reconstruct": {
        // _reconstruct(numpy.ndarray, (0,), b'b'): an empty array that BUILD fills with (version, shape, dtype, fortran, data).
        const cls = a[0];
        if (a.length !== 3 || !(cls instanceof PyGlobal) || cls.qualified !== "numpy.ndarray") throw bad("(numpy.ndarray, shape, type code)");
        return new PyNumpyArray();
      }
      case "rebuild_from_type_v2": {
        // (func, type, args, state): func(*args) must be one of our tensor constructors; type torch.Tensor or Parameter; the state (Python attributes) is dropped.
        const [func, type, inner] = a;
        if (a.length !== 4 || !(type instanceof PyGlobal) || type.entry.kind !== "class" || type.qualified === "numpy.ndarray" || !(inner instanceof PyTuple)) throw bad("(function, torch.Tensor or Parameter, args, state)");
        // One level only: a rebuild nested in itself would recurse as deep as the file asks.
        if (func instanceof PyGlobal && func.entry.kind === "call" && func.entry.call === "rebuild_from_type_v2") throw unsafeCall(func, "a nested _rebuild_from_type_v2");
        const t = call(func, inner, what);
        if (!(t instanceof PyTensor)) throw bad("a function that rebuilds a tensor");
        return type.entry.parameter ? new PyTensor(t.storage, t.offset, t.shape, t.stride, true) : t;
      }
    }
  }

  function numpyArrayState(array: PyNumpyArray, state: PyTuple): void {
    // (version, shape, dtype, is_fortran, raw bytes or a list of objects)
    const [, shape, dtype] = state.items;
    if (state.items.length !== 5 || !(dtype instanceof PyNumpyDtype)) throw fail("BAD_HEADER", `the pickle's BUILD at byte ${formatCount(op)} gives a numpy array ${describe(state)}, not (version, shape, dtype, fortran, data).`, { offset: op });
    array.dtype = dtype;
    array.shape = ints(shape, "numpy array shape");
  }

  function ints(value: PyValue, what: string): number[] {
    const items = value instanceof PyTuple ? value.items : Array.isArray(value) ? value : undefined;
    if (!items) throw fail("BAD_SHAPE", `a tensor's ${what} is ${describe(value)}, not a tuple of integers (pickle byte ${formatCount(op)}).`, { offset: op });
    return items.map((d, i) => {
      // Negative strides and dims are refused here; the reader checks the products.
      if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
        throw fail("BAD_SHAPE", `a tensor's ${what}[${i}] is ${describe(d)}, not a non-negative integer below 2^53 (pickle byte ${formatCount(op)}).`, { offset: op });
      }
      return d;
    });
  }
}

const SCALAR_WIDTHS: Record<string, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };

/** A numpy scalar's raw bytes as a number (bigint past 2^53, boolean for 'b1'), or undefined for a dtype not decoded (complex, text). */
function decodeScalar(dtype: PyNumpyDtype, bytes: Uint8Array): number | bigint | boolean | undefined {
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(dtype.code);
  if (!m) return undefined;
  const [, prefix, kind, size] = m;
  const width = Number(size);
  if (!SCALAR_WIDTHS[kind].includes(width) || bytes.byteLength !== width) return undefined;
  const order = prefix || dtype.byteorder;
  const little = order !== ">";
  const view = new DataView(bytes.buffer, bytes.byteOffset, width);
  if (kind === "b") return bytes[0] !== 0;
  if (kind === "f") return width === 8 ? view.getFloat64(0, little) : width === 4 ? view.getFloat32(0, little) : half(view.getUint16(0, little));
  const signed = kind === "i";
  if (width === 8) {
    const v = signed ? view.getBigInt64(0, little) : view.getBigUint64(0, little);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  if (width === 1) return signed ? view.getInt8(0) : view.getUint8(0);
  if (width === 2) return signed ? view.getInt16(0, little) : view.getUint16(0, little);
  return signed ? view.getInt32(0, little) : view.getUint32(0, little);
}

/** IEEE half-precision bits as a number. */
function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A short description of a value for a message. */
export function describe(value: PyValue | undefined): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "string") return quoteName(value.slice(0, 60));
  if (value instanceof Uint8Array) return `bytes of length ${formatCount(value.byteLength)}`;
  if (Array.isArray(value)) return `a list of ${formatCount(value.length)}`;
  if (value instanceof PyTuple) return `a tuple of ${formatCount(value.items.length)}`;
  if (value instanceof PyDict) return `a dict of ${formatCount(value.map.size)}`;
  if (value instanceof PyGlobal) return quoteName(value.qualified);
  if (value instanceof PyStorage) return `a ${value.dtype.name} storage`;
  if (value instanceof PyNumpyDtype) return `numpy dtype ${quoteName(value.code.slice(0, 16))}`;
  if (value instanceof PyNumpyArray) return value.scalar ? `a numpy ${quoteName(value.dtype?.code ?? "?")} scalar` : `a numpy ${value.dtype ? `${value.dtype.code} ` : ""}array of shape [${value.shape.join(", ")}]`;
  return `a tensor of shape [${value.shape.join(", ")}]`;
}

/** The storage element type of a storage-type global, or undefined when `value` is not one. */
export function storageDtype(value: PyValue): StorageDtype | undefined {
  return value instanceof PyGlobal && value.entry.kind === "storage" ? value.entry.dtype : undefined;
}
