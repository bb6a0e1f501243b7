// Every call on a path closes the file it opened, also when it refuses the options before reading:
// 200 refused calls used to leave 200 open handles for the garbage collector (and a warning each).
import { existsSync, readdirSync } from "node:fs";
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

test.run();
