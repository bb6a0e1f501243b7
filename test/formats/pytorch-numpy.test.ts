// Training checkpoints with numpy scalars and arrays (numpy.core.multiarray.scalar with a numpy.dtype
// and raw bytes, _reconstruct for small arrays, _codecs.encode for bytes in protocol 2) and tensors
// rebuilt through torch._utils._rebuild_from_type_v2: read as data by src/formats/pytorch/pickle.ts,
// never called. Files written by Debian's torch 1.13 (test/fixtures/pytorch/make_numpy_checkpoints.py),
// checked against its float64 references; the _rebuild_from_type_v2 pickles are built by hand (torch
// 1.13 does not write one for a plain tensor), and the globals around them stay refused.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, inspect } from "../../src/entry/node-core.js";
import { fileSource } from "../../src/node/file-source.js";
import { assertMatchesExpected, type ExpectedReport } from "../helpers/expected-report.js";
import { rejects } from "../helpers/rejects.js";
import { checkpoint, f32, Pickle } from "../fixtures/pytorch/build.js";

const dir = "test/fixtures/pytorch";
const expected = (stem: string) => JSON.parse(readFileSync(`${dir}/${stem}.expected.json`, "utf8")) as ExpectedReport;

for (const stem of ["numpy-scalars", "numpy-array"]) {
  test(`${stem}.pt (torch 1.13) matches its float64 reference to 1e-9`, async () => {
    const report = await analyze(await fileSource(`${dir}/${stem}.pt`), { perNode: true });
    assertMatchesExpected(report, expected(stem), 1e-9);
  });
}

test("numpy-scalars.pt: the scalars are decoded by their dtype and named in the note", async () => {
  const model = await inspect(await fileSource(`${dir}/numpy-scalars.pt`));
  const note = model.notes!.find((n) => n.includes("['model']"));
  assert.ok(note, model.notes!.join(" | "));
  // float64 0.9 exactly; float32 0.25 and float16 1.5 are exact in their widths; uint64 2^63 + 5 above 2^53 stays exact.
  for (const part of ["'best_acc' (0.9)", "'epoch' (3)", "'lr' (0.25)", "'half' (1.5)", "'flag' (True)", "'big' (9223372036854775813)", "'neg' (-7)"]) {
    assert.ok(note!.includes(part), `${part} in ${note}`);
  }
});

test("numpy-array.pt: the arrays are named with dtype and shape, not read as tensors", async () => {
  const model = await inspect(await fileSource(`${dir}/numpy-array.pt`));
  const note = model.notes!.find((n) => n.includes("['state_dict']"));
  assert.ok(note, model.notes!.join(" | "));
  assert.ok(note!.includes("'history' (a numpy <f8 array of shape [3])") || note!.includes("'history' (a numpy f8 array of shape [3])"), note);
  assert.ok(note!.includes("array of shape [2, 3])"), note);
  assert.equal(model.tensors.map((t) => t.name).sort(), ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]);
});

/** {"w": _rebuild_from_type_v2(_rebuild_tensor_v2, <type>, (storage, 0, (2, 2), (2, 1), False, OrderedDict()), {})}. */
function fromType(module: string, name: string, func: [string, string] = ["torch._utils", "_rebuild_tensor_v2"]): Uint8Array {
  const p = new Pickle().proto(2).emptyDict().str("w");
  p.global("torch._utils", "_rebuild_from_type_v2").mark().global(...func).global(module, name);
  p.mark().mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(4).tuple().binpersid();
  p.int(0).mark().int(2).int(2).tuple().mark().int(2).int(1).tuple().false().global("collections", "OrderedDict").emptyTuple().reduce().tuple();
  p.emptyDict().tuple().reduce().setitem();
  return p.stop().done();
}

test("_rebuild_from_type_v2 of torch.Tensor or Parameter: the tensor its rebuild function gives", async () => {
  for (const [module, name] of [["torch", "Tensor"], ["torch._tensor", "Tensor"], ["torch.nn.parameter", "Parameter"]]) {
    const model = await inspect(checkpoint(fromType(module, name), { 0: f32([1, 2, 3, 4]) }));
    assert.equal(model.tensors.map((t) => [t.name, t.shape]), [["w", [2, 2]]], `${module}.${name}`);
  }
});

test("_rebuild_from_type_v2 with any other type or function, and the usual attacks, stay UNSAFE_PICKLE", async () => {
  await rejects(() => inspect(checkpoint(fromType("__main__", "MyTensor"), { 0: f32([1, 2, 3, 4]) })), "UNSAFE_PICKLE", "'__main__.MyTensor'");
  await rejects(() => inspect(checkpoint(fromType("torch", "Tensor", ["os", "system"]), { 0: f32([1, 2, 3, 4]) })), "UNSAFE_PICKLE", "'os.system'");
  await rejects(() => inspect(checkpoint(fromType("numpy", "ndarray"), { 0: f32([1, 2, 3, 4]) })), "BAD_HEADER", "_rebuild_from_type_v2");
  // A class allowed only as an argument is never called.
  for (const [module, name] of [["numpy", "ndarray"], ["torch", "Tensor"]]) {
    const call = new Pickle().proto(2).emptyDict().str("x").global(module, name).emptyTuple().reduce().setitem().stop().done();
    await rejects(() => inspect(checkpoint(call, {})), "UNSAFE_PICKLE", `'${module}.${name}'`);
  }
  // numpy's other globals are refused by name.
  for (const [module, name] of [["numpy", "load"], ["numpy.core.multiarray", "fromstring"], ["numpy.lib.npyio", "NpzFile"], ["builtins", "eval"], ["os", "system"], ["subprocess", "Popen"]]) {
    const pkl = new Pickle().proto(2).global(module, name).stop().done();
    await rejects(() => inspect(checkpoint(pkl, {})), "UNSAFE_PICKLE", `'${module}.${name}'`);
  }
});

test("a numpy scalar whose bytes do not fit its dtype, or with a dtype not decoded, is named without a number", async () => {
  const scalar = (code: string, bytes: number[]) => {
    const p = new Pickle().proto(3).emptyDict().str("model").emptyDict().str("w");
    p.global("torch._utils", "_rebuild_tensor_v2").mark().mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(1).tuple().binpersid();
    p.int(0).mark().int(1).tuple().mark().int(1).tuple().false().global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce().setitem().setitem();
    p.str("s").global("numpy.core.multiarray", "scalar").global("numpy", "dtype").str(code).false().op(0x88).op(0x87).reduce();
    p.op(0x43, bytes.length, ...bytes).op(0x86).reduce().setitem();
    return p.stop().done();
  };
  const note = async (code: string, bytes: number[]) => (await inspect(checkpoint(scalar(code, bytes), { 0: f32([1]) }))).notes!.join(" | ");
  assert.ok((await note("f8", [0, 0, 0, 0, 0, 0, 0xf0, 0x3f])).includes("'s' (1)"));
  assert.ok((await note("f8", [0, 0, 0xf0, 0x3f])).includes("'s' (a numpy 'f8' scalar)"));
  assert.ok((await note("c16", new Array(16).fill(0))).includes("'s' (a numpy 'c16' scalar)"));
});

test.run();
