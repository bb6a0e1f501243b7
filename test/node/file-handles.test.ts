// Every call on a path closes the file it opened, also when it refuses the options before reading:
// 200 refused calls used to leave 200 open handles for the garbage collector (and a warning each).
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile, inspectFile } from "../../src/node/index.js";

const openFiles = () => readdirSync("/proc/self/fd").length;

test("analyzeFile and inspectFile with options they refuse leave no file open", async () => {
  if (!existsSync("/proc/self/fd")) return; // Linux only: elsewhere there is no cheap count of open files
  const before = openFiles();
  for (let i = 0; i < 200; i++) {
    await analyzeFile("models/digits-mlp.safetensors", { bins: 0 }).then(() => assert.unreachable("bins 0 accepted"), (e) => assert.is(e.code, "BAD_OPTION"));
    await inspectFile("models/digits-mlp.safetensors", { limits: { maxTensors: -1 } }).then(() => assert.unreachable("a negative limit accepted"), (e) => assert.is(e.code, "BAD_OPTION"));
  }
  assert.ok(openFiles() - before < 10, `${openFiles() - before} more files open after 400 refused calls`);
});

test("shard files (opened on the spot, closed with the model) are all closed after analyses, also after a shard is refused", async () => {
  if (!existsSync("/proc/self/fd")) return;
  const dir = join(mkdtempSync(join(tmpdir(), "cntscope-fds-")), "model");
  cpSync("test/fixtures/tfjs/dense-f32", dir, { recursive: true });
  const linked = join(dir, "..", "linked");
  const folder = join(dir, "..", "folder");
  cpSync(dir, linked, { recursive: true });
  cpSync(dir, folder, { recursive: true });
  // A second hard link to a shard (refused after its open, on the open descriptor), and a folder where a shard should be.
  linkSync(join(linked, "group1-shard2of2.bin"), join(dir, "..", "elsewhere.bin"));
  rmSync(join(folder, "group1-shard2of2.bin"));
  mkdirSync(join(folder, "group1-shard2of2.bin"));
  const before = openFiles();
  for (let i = 0; i < 50; i++) {
    const report = await analyzeFile(join(dir, "model.json"));
    assert.is(report.layers.length, 3);
    await analyzeFile(join(linked, "model.json")).then(() => assert.unreachable("a hard-linked shard accepted"), (e) => assert.is(e.code, "UNSAFE_PATH"));
    await analyzeFile(join(folder, "model.json")).then(() => assert.unreachable("a folder read as a shard"), (e) => assert.ok(["UNSAFE_PATH", "BAD_OPTION"].includes(e.code), e.code));
  }
  assert.ok(openFiles() - before < 10, `${openFiles() - before} more files open after 150 analyses of a two-shard model`);
});

test.run();
