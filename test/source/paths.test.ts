// Files named by a model file are opened only inside the model's folder.
import { linkSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { resolveSibling } from "../../src/node/sibling.js";
import { filesSource } from "../../src/source/files.js";
import { checkRelativePath } from "../../src/source/paths.js";

const isCode = (code: string) => (e: unknown) => (e as { code?: string }).code === code;

test("plain relative names pass, normalised", () => {
  assert.equal(checkRelativePath("weights/shard1.bin", "model.json"), ["weights", "shard1.bin"]);
  assert.equal(checkRelativePath("./a.bin", "model.json"), ["a.bin"]);
});

for (const bad of ["../../etc/passwd", "a/../../b", "/etc/passwd", "C:\\x.bin", "c:/x.bin", "https://example.com/w.bin", "file:///etc/passwd", "a\\..\\b", "a//b", "", "a\0b"]) {
  test(`UNSAFE_PATH for ${JSON.stringify(bad)}`, () => {
    assert.throws(() => checkRelativePath(bad, "model.onnx"), isCode("UNSAFE_PATH"));
  });
}

test("Node: symlinks out of the folder and hard links are refused; plain files resolve", async () => {
  const root = mkdtempSync(join(tmpdir(), "cntscope-paths-"));
  const folder = join(root, "model");
  mkdirSync(folder);
  writeFileSync(join(root, "secret.bin"), "secret");
  writeFileSync(join(folder, "model.onnx"), "m");
  writeFileSync(join(folder, "data.bin"), "d");
  symlinkSync(join(root, "secret.bin"), join(folder, "link.bin"));
  linkSync(join(root, "secret.bin"), join(folder, "hard.bin"));
  const model = join(folder, "model.onnx");
  assert.ok((await resolveSibling(model, "data.bin")).endsWith("data.bin"));
  await resolveSibling(model, "link.bin").then(() => assert.unreachable("symlink accepted"), (e) => assert.ok(isCode("UNSAFE_PATH")(e), String(e)));
  await resolveSibling(model, "hard.bin").then(() => assert.unreachable("hard link accepted"), (e) => assert.ok(isCode("UNSAFE_PATH")(e), String(e)));
  await resolveSibling(model, "../secret.bin").then(() => assert.unreachable("'..' accepted"), (e) => assert.ok(isCode("UNSAFE_PATH")(e), String(e)));
});

test("filesSource: siblings by name, relative to the main file's folder; unknown names say what was given", async () => {
  const source = filesSource(new Map<string, Uint8Array>([["m/model.json", new Uint8Array([1])], ["m/w.bin", new Uint8Array([7, 8])]]), "m/model.json");
  const shard = await source.sibling!("w.bin");
  const bytes = new Uint8Array(2);
  await shard.readInto(0, bytes);
  assert.equal(Array.from(bytes), [7, 8]);
  await source.sibling!("x.bin").then(() => assert.unreachable(), (e) => assert.match(String(e.message), /'m\/w.bin'/));
  await source.sibling!("../w.bin").then(() => assert.unreachable(), (e) => assert.ok(isCode("UNSAFE_PATH")(e)));
});

test.run();
