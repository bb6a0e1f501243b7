// Hostile PyTorch checkpoints: code-bearing pickles, pickle programs that try to exhaust memory or
// the stack, lying lengths and counts, storages that do not hold their views. Every case ends in
// a CntError with its code, quickly, with nothing run and nothing allocated from a declared size.
import { existsSync, readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inspect } from "../../src/entry/node-core.js";
import { fileSource } from "../../src/node/file-source.js";
import { rejects } from "../helpers/rejects.js";
import { chunkedStream } from "../helpers/sources.js";
import { checkpoint, f32, Pickle, stateDictPickle, storedZip, type PtTensor } from "../fixtures/pytorch/build.js";

const dir = "test/fixtures/pytorch";
const w = (over: Partial<PtTensor> = {}): PtTensor => ({ name: "fc.weight", storage: "FloatStorage", key: "0", numel: 6, offset: 0, shape: [3, 2], stride: [2, 1], ...over });
const six = { 0: f32([1, 2, 3, 4, 5, 6]) };
/** A checkpoint whose data.pkl is `program`. */
const withPickle = (program: Uint8Array, storages: Record<string, Uint8Array> = six) => checkpoint(program, storages);

// ------------------------------------------------------------------------------- code in pickles

test("malicious.pt (os.system through __reduce__, written by pickle) is UNSAFE_PICKLE naming the global; nothing runs", async () => {
  const e = await rejects(async () => inspect(await fileSource(`${dir}/malicious.pt`)), "UNSAFE_PICKLE", "system'");
  assert.ok(/'(posix|os|nt)\.system'/.test(e.message), e.message);
  assert.not.ok(existsSync("/tmp/cntscope-pwned"));
});

test("a pickled whole model names its class: UNSAFE_PICKLE with the hint to save the state_dict", async () => {
  await rejects(async () => inspect(await fileSource(`${dir}/whole-model.pt`)), "UNSAFE_PICKLE", "'__main__.MLP'");
  await rejects(async () => inspect(await fileSource(`${dir}/whole-model.pt`)), "UNSAFE_PICKLE", "state_dict()");
});

for (const [module, name] of [["builtins", "eval"], ["os", "system"], ["posix", "system"], ["subprocess", "Popen"], ["subprocess", "check_output"], ["builtins", "getattr"], ["torch", "load"], ["numpy.core.multiarray", "fromstring"], ["numpy", "frombuffer"], ["torch._utils", "_rebuild_qtensor"]]) {
  test(`GLOBAL ${module}.${name} is refused as soon as it is read`, async () => {
    const program = new Pickle().proto(2).global(module, name).str("echo x").op(0x85).reduce().stop().done();
    await rejects(() => inspect(withPickle(program)), "UNSAFE_PICKLE", `'${module}.${name}'`);
  });
}

test("numpy's data constructors (allowed for checkpoints' scalars and arrays) given anything but their data are refused, never called", async () => {
  for (const [module, name] of [["numpy.core.multiarray", "_reconstruct"], ["numpy.core.multiarray", "scalar"], ["numpy", "dtype"]]) {
    const program = new Pickle().proto(2).global(module, name).str("echo x").op(0x85).reduce().stop().done();
    await rejects(() => inspect(withPickle(program)), "BAD_HEADER", `${module}.${name}`);
  }
});

test("STACK_GLOBAL, INST, OBJ, EXT1 and NEWOBJ of an unknown class are refused", async () => {
  const sbu = (p: Pickle, s: string) => p.op(0x8c, s.length).raw(new TextEncoder().encode(s));
  const stackGlobal = new Pickle().proto(4);
  sbu(stackGlobal, "os");
  sbu(stackGlobal, "system");
  await rejects(() => inspect(withPickle(stackGlobal.op(0x93).stop().done())), "UNSAFE_PICKLE", "'os.system'");
  const inst = new Pickle().proto(2).mark().op(0x69).raw(new TextEncoder().encode("os\nsystem\n")).stop().done();
  await rejects(() => inspect(withPickle(inst)), "UNSAFE_PICKLE", "'os.system'");
  await rejects(() => inspect(withPickle(new Pickle().proto(2).mark().op(0x6f).stop().done())), "UNSAFE_PICKLE", "OBJ");
  await rejects(() => inspect(withPickle(new Pickle().proto(2).op(0x82, 1).stop().done())), "UNSAFE_PICKLE", "extension registry");
  // NEWOBJ / REDUCE of an allowed name that is not a constructor of data (a storage type), BUILD on a list.
  const newobj = new Pickle().proto(2).global("torch", "FloatStorage").emptyTuple().op(0x81).stop().done();
  await rejects(() => inspect(withPickle(newobj)), "UNSAFE_PICKLE", "'torch.FloatStorage'");
  const reduce = new Pickle().proto(2).global("torch", "float32").emptyTuple().reduce().stop().done();
  await rejects(() => inspect(withPickle(reduce)), "UNSAFE_PICKLE", "'torch.float32'");
  const reduceString = new Pickle().proto(2).str("os.system").emptyTuple().reduce().stop().done();
  await rejects(() => inspect(withPickle(reduceString)), "UNSAFE_PICKLE", "REDUCE");
  const build = new Pickle().proto(2).emptyList().emptyDict().op(0x62).stop().done();
  await rejects(() => inspect(withPickle(build)), "UNSAFE_PICKLE", "BUILD");
});

// ------------------------------------------------------------------- pickles that try to exhaust us

test("opcodes that build huge lists hit the value budget (TOO_LARGE), not the heap", async () => {
  // 1.2 M NONE pushes under one MARK, then LIST: over the 2^20 values allowed when maxTensors is small
  // (the bound is max(2^20, 32 x maxTensors)).
  const limits = { maxTensors: 1000 };
  const body = new Uint8Array(1_200_000).fill(0x4e);
  const program = new Pickle().proto(2).mark().raw(body).op(0x6c).stop().done();
  const started = performance.now();
  await rejects(() => inspect(withPickle(program), { limits }), "TOO_LARGE", "maxTensors");
  assert.ok(performance.now() - started < 2000);
  // Doubling through the memo: GET the same list many times and APPENDS them: each item counts.
  const memo = new Pickle().proto(2).emptyList().put(0).mark();
  for (let i = 0; i < 600_000; i++) memo.get(0);
  await rejects(() => inspect(withPickle(memo.appends().op(0x30).get(0).mark().raw(new Uint8Array(600_000).fill(0x4e)).appends().stop().done()), { limits }), "TOO_LARGE", "values");
});

test("deep nesting and cycles: no recursion, no hang (the search stops at a fixed depth)", async () => {
  const n = 200_000;
  const p = new Pickle().proto(2);
  for (let i = 0; i < n; i++) p.emptyList();
  for (let i = 0; i < n - 1; i++) p.op(0x61); // APPEND: [[[...]]]
  await rejects(() => inspect(withPickle(p.stop().done())), "BAD_HEADER", "no dict of tensors");
  // A list that holds itself, and a dict that holds itself.
  const cycle = new Pickle().proto(2).emptyList().put(0).get(0).op(0x61).stop().done();
  await rejects(() => inspect(withPickle(cycle)), "BAD_HEADER", "no dict of tensors");
  const dictCycle = new Pickle().proto(2).emptyDict().put(0).str("self").get(0).setitem().stop().done();
  await rejects(() => inspect(withPickle(dictCycle)), "BAD_HEADER", "no dict of tensors");
  // Tensors nested deeper than the search: not found, said so.
  const deep = stateDictPickle([w()], (q, body) => {
    for (let i = 0; i < 8; i++) q.emptyDict().str(`level${i}`);
    body();
    for (let i = 0; i < 8; i++) q.setitem();
  });
  await rejects(() => inspect(withPickle(deep)), "BAD_HEADER", "no dict of tensors");
});

test("a million-item list beside the state_dict is summarised, not spread into one call", async () => {
  const program = stateDictPickle([w()], (q, body) => {
    q.emptyDict().str("model");
    body();
    q.setitem().str("junk").mark().raw(new Uint8Array(1_000_000).fill(0x4e)).op(0x6c).setitem();
  });
  const model = await inspect(withPickle(program));
  assert.equal(model.tensors.map((t) => t.name), ["fc.weight"]);
  assert.ok(model.notes!.some((n) => n.includes("'junk' (a list of 1,000,000)")), model.notes!.join(" | "));
});

test("memo abuse: GET of a missing index, a huge PUT index (no allocation), POP and REDUCE on an empty stack", async () => {
  await rejects(() => inspect(withPickle(new Pickle().proto(2).get(7).stop().done())), "BAD_HEADER", "memo entry 7");
  await rejects(() => inspect(withPickle(new Pickle().proto(2).op(0x6a).u32(0xffffffff).stop().done())), "BAD_HEADER", "memo entry 4,294,967,295");
  const bigPut = new Pickle().proto(2).emptyDict().op(0x72).u32(0xfffffffe).op(0x30).op(0x6a).u32(0xfffffffe).stop().done();
  await rejects(() => inspect(withPickle(bigPut)), "BAD_HEADER", "no dict of tensors");
  await rejects(() => inspect(withPickle(new Pickle().proto(2).reduce().stop().done())), "BAD_HEADER", "stack empty");
  await rejects(() => inspect(withPickle(new Pickle().proto(2).op(0x31).stop().done())), "BAD_HEADER", "no MARK");
  await rejects(() => inspect(withPickle(new Pickle().proto(2).mark().stop().done())), "BAD_HEADER", "stack empty");
  await rejects(() => inspect(withPickle(new Pickle().proto(2).op(0x49).stop().done())), "BAD_HEADER", "opcode 0x49");
});

test("lengths past the end of data.pkl: strings, bytes, LONG4, frames", async () => {
  const cases: [Uint8Array, string, string][] = [
    [new Pickle().proto(2).op(0x58).u32(0xffffffff).done(), "TRUNCATED", "BINUNICODE"],
    [new Pickle().proto(4).op(0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80).done(), "TRUNCATED", "BINUNICODE8"],
    [new Pickle().proto(4).op(0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).done(), "TRUNCATED", "BINBYTES8"],
    [new Pickle().proto(2).op(0x42).u32(1000).done(), "TRUNCATED", "BINBYTES"],
    [new Pickle().proto(4).op(0x95, 0, 0, 0, 0, 1, 0, 0, 0).done(), "TRUNCATED", "frame"],
    [new Pickle().proto(2).op(0x8b).u32(0x7fffffff).done(), "BAD_HEADER", "LONG4"],
    [new Pickle().proto(2).op(0x63).raw(new TextEncoder().encode("torch")).done(), "TRUNCATED", "end of line"],
    [new Pickle().proto(2).emptyDict().done(), "TRUNCATED", "opcode"],
    [new Pickle().proto(2).op(0x58).u32(2).op(0xff, 0xfe).stop().done(), "BAD_HEADER", "UTF-8"],
  ];
  for (const [program, code, phrase] of cases) await rejects(() => inspect(withPickle(program)), code, phrase);
});

// ------------------------------------------------------------------- storages that lie about views

test("tensor counts and sizes past the file: maxTensors, a storage bigger than its entry, a view past its storage", async () => {
  const many = stateDictPickle(Array.from({ length: 5 }, (_, i) => w({ name: `t${i}.weight` })));
  await rejects(() => inspect(withPickle(many), { limits: { maxTensors: 4 } }), "TOO_LARGE", "maxTensors");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ numel: 2 ** 40, shape: [2 ** 20, 2 ** 20], stride: [2 ** 20, 1] })]))), "TRUNCATED", "declares 1,099,511,627,776 float32 elements");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ numel: 2 ** 52 })]))), "BAD_SHAPE", "more than 2^53 bytes");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ shape: [4, 2] })]))), "OUT_OF_BOUNDS", "reaches element 7, but storage '0' holds 6");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ offset: 1 })]))), "OUT_OF_BOUNDS", "'fc.weight'");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ stride: [3, 1] })]))), "OUT_OF_BOUNDS", "strides [3, 1]");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ shape: [0, 2], offset: 7 })]))), "OUT_OF_BOUNDS", "storage offset 7");
});

test("strided views are bounded in runs per tensor and per file", async () => {
  // Five tensors of 60,000 one-element runs each (a stride-2 vector): under the per-tensor bound, over the file's.
  const numel = 120_000;
  const views = Array.from({ length: 5 }, (_, i) => w({ name: `v${i}`, numel, shape: [60_000], stride: [2] }));
  await rejects(() => inspect(withPickle(stateDictPickle(views), { 0: new Uint8Array(numel * 4) })), "UNSUPPORTED_FORMAT", "left of the 262,144");
  const one = [w({ name: "v", numel: 140_000, shape: [70_000], stride: [2] })];
  await rejects(() => inspect(withPickle(stateDictPickle(one), { 0: new Uint8Array(140_000 * 4) })), "UNSUPPORTED_FORMAT", "70,000 separate runs, above the 65,536");
});

test("negative, overflowing or malformed strides, shapes and offsets are BAD_SHAPE naming the problem", async () => {
  await rejects(() => inspect(withPickle(stateDictPickle([w({ stride: [-2, 1] })]))), "BAD_SHAPE", "stride[0] is -2");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ shape: [-3, 2] })]))), "BAD_SHAPE", "size[0] is -3");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ stride: [2 ** 52, 2 ** 52], shape: [3, 2] })]))), "BAD_SHAPE", "past 2^53");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ offset: 2 ** 60 })]))), "BAD_SHAPE", "storage offset is 1152921504606846976");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ stride: [1] })]))), "BAD_SHAPE", "2 dims [3, 2] but 1 strides");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ shape: Array(9).fill(1), stride: Array(9).fill(1) })]))), "TOO_LARGE", "maxRank");
  await rejects(() => inspect(withPickle(stateDictPickle([w({ shape: [2 ** 27, 2 ** 27, 2 ** 27], stride: [0, 0, 0] })]))), "BAD_SHAPE", "2^53");
});

test("a storage key missing from the zip, one key with two types, a bad persistent id, two data.pkl", async () => {
  await rejects(() => inspect(withPickle(stateDictPickle([w({ key: "9" })]))), "BAD_HEADER", "tensor 'fc.weight' views storage '9', but the zip has no entry 'archive/data/9'");
  const twoTypes = stateDictPickle([w(), w({ name: "h", storage: "HalfStorage" })]);
  await rejects(() => inspect(withPickle(twoTypes)), "BAD_HEADER", "named twice");
  const badId = new Pickle().proto(2).str("not a storage").binpersid().stop().done();
  await rejects(() => inspect(withPickle(badId)), "BAD_HEADER", "persistent id");
  const shortId = new Pickle().proto(2).mark().str("storage").global("torch", "FloatStorage").tuple().binpersid().stop().done();
  await rejects(() => inspect(withPickle(shortId)), "BAD_HEADER", "tuple of 2 items");
  const pkl = stateDictPickle([w()]);
  const two = storedZip([{ name: "a/data.pkl", data: pkl }, { name: "b/data.pkl", data: pkl }, { name: "a/data/0", data: six[0] }]);
  await rejects(() => inspect(two), "BAD_HEADER", "2 data.pkl entries");
});

test("no float tensors, a bare tensor, duplicate names: said plainly", async () => {
  await rejects(() => inspect(withPickle(stateDictPickle([w({ storage: "LongStorage", numel: 1, shape: [], stride: [] })]), { 0: new Uint8Array(8) })), "BAD_HEADER", "no floating-point tensors");
  const bare = new Pickle().proto(2).global("torch._utils", "_rebuild_tensor_v2").mark().mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(6).tuple().binpersid().int(0).mark().int(6).tuple().mark().int(1).tuple().tuple().reduce().stop().done();
  await rejects(() => inspect(withPickle(bare)), "BAD_HEADER", "one bare tensor");
  const dup = stateDictPickle([w(), w({ name: "fc.weight" })]);
  // Python dicts cannot hold a key twice: the second SETITEMS value replaces the first. An int key 1 and a str key '1' can clash.
  assert.is((await inspect(withPickle(dup))).tensors.length, 1);
  const clash = new Pickle().proto(2).emptyDict().mark().int(1);
  const tensorOps = (q: Pickle) => q.global("torch._utils", "_rebuild_tensor_v2").mark().mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(6).tuple().binpersid().int(0).mark().int(6).tuple().mark().int(1).tuple().tuple().reduce();
  tensorOps(clash).str("1");
  tensorOps(clash).setitems().stop();
  await rejects(() => inspect(withPickle(clash.done())), "BAD_HEADER", "names tensor '1' twice");
});

test("sources: a one-shot stream is refused (the zip directory is at the end), a cut file is TRUNCATED", async () => {
  const bytes = new Uint8Array(readFileSync(`${dir}/mlp.pt`));
  await rejects(() => inspect(chunkedStream(bytes, () => 4096)), "BAD_OPTION", "one-shot stream");
  await rejects(() => inspect(bytes.subarray(0, bytes.byteLength - 30)), "TRUNCATED", "end-of-central-directory");
  const legacy = new Uint8Array(readFileSync(`${dir}/legacy.pt`));
  await rejects(() => inspect(chunkedStream(legacy, () => 4096)), "BAD_OPTION", "one-shot stream");
  // Cut inside data.pkl: the directory says more than the bytes hold.
  const cut = withPickle(stateDictPickle([w()]).subarray(0, 40));
  await rejects(() => inspect(cut), "TRUNCATED", "pickle");
});

test.run();
