// `cntscope analyze` without --workers: every core but one for big files, one thread for small ones.
import { statSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { defaultWorkers, fileSize } from "../../src/cli/workers.js";

test("files of 64 MiB or more get every core but one, at most 4; smaller or unreadable files get one thread", () => {
  assert.is(defaultWorkers(64 << 20, 2), 1);
  assert.is(defaultWorkers(64 << 20, 3), 2);
  assert.is(defaultWorkers(5e9, 16), 4);
  assert.is(defaultWorkers(64 << 20, 1), 1);
  assert.is(defaultWorkers((64 << 20) - 1, 8), 1);
  assert.is(defaultWorkers(undefined, 8), 1);
});

test("fileSize reads the size, and undefined for a missing file", async () => {
  assert.is(await fileSize("models/digits-mlp.safetensors"), statSync("models/digits-mlp.safetensors").size);
  assert.is(await fileSize("models/no-such-file.safetensors"), undefined);
});

test.run();
