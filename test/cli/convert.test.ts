// `cntscope convert` never destroys data: not the input, not an existing file, not on Ctrl-C.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileSystemError } from "../../src/node/fs-errors.js";
import { f32Bytes, writeSafetensors } from "../helpers/safetensors-writer.js";

const tmp = mkdtempSync(join(tmpdir(), "cntscope-convert-"));
const source = "models/digits-mlp.safetensors";

function cntscope(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function copyOfModel(name: string): string {
  const path = join(tmp, name);
  writeFileSync(path, readFileSync(source));
  return path;
}

test("convert onto the input itself (same path, a hard link, a symbolic link) is SAME_FILE, even with --force; the input is untouched", () => {
  const model = copyOfModel("self.safetensors");
  const before = sha(model);
  const hard = join(tmp, "hard.cnt");
  linkSync(model, hard);
  const soft = join(tmp, "soft.cnt");
  symlinkSync(model, soft);
  for (const out of [model, hard, soft]) {
    for (const extra of [[], ["--force"]]) {
      const r = cntscope("convert", model, out, ...extra);
      assert.is(r.code, 2, r.stderr);
      assert.match(r.stderr, /^SAME_FILE: /);
      assert.is(sha(model), before);
    }
  }
});

test("an existing output is kept unless --force; with --force it is replaced by a whole .cnt", () => {
  const out = join(tmp, "exists.cnt");
  writeFileSync(out, "precious");
  const r = cntscope("convert", source, out);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^OUTPUT_EXISTS: .*--force/);
  assert.is(readFileSync(out, "utf8"), "precious");
  const forced = cntscope("convert", source, out, "--force");
  assert.is(forced.code, 0, forced.stderr);
  const a = JSON.parse(cntscope("analyze", source, "--json").stdout);
  const b = JSON.parse(cntscope("analyze", out, "--json").stdout);
  assert.equal(b.nodeLayers, a.nodeLayers);
  assert.equal(readdirSync(tmp).filter((f) => f.endsWith(".partial")), [], "no temporary file left");
});

test("file system problems are typed codes with exit 2: a missing folder, a missing input, a folder as output", () => {
  const noFolder = cntscope("convert", source, join(tmp, "no-such-folder", "x.cnt"));
  assert.is(noFolder.code, 2);
  assert.match(noFolder.stderr, /^NOT_FOUND: .*no-such-folder/);
  const noInput = cntscope("convert", join(tmp, "missing.safetensors"), join(tmp, "y.cnt"));
  assert.is(noInput.code, 2);
  assert.match(noInput.stderr, /^NOT_FOUND: .*missing\.safetensors/);
  const folder = cntscope("convert", source, tmp);
  assert.is(folder.code, 2);
  assert.match(folder.stderr, /^BAD_OPTION: .*is a folder/);
  assert.is(fileSystemError(Object.assign(new Error("x"), { code: "EACCES" }), "Cannot write", "f").code, "PERMISSION");
  assert.is(fileSystemError(Object.assign(new Error("x"), { code: "ENOSPC" }), "Cannot write", "f").code, "FILE_SYSTEM");
});

test("Ctrl-C during convert: exit 130, no partial file, no output", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cntscope-interrupt-"));
  const model = join(dir, "big.safetensors");
  writeFileSync(model, writeSafetensors([{ name: "w", dtype: "F32", shape: [1024, 4096], data: f32Bytes(new Float32Array(1024 * 4096).fill(0.25)) }]));
  const out = join(dir, "big.cnt");
  // 64-byte blocks make the 16 MB tensor take many seconds, so the signal lands mid-way.
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "convert", model, out, "--block-bytes", "64"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const started = Date.now();
  while (!readdirSync(dir).some((f) => f.endsWith(".partial")) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGINT");
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.is(code, 130, stderr);
  assert.equal(readdirSync(dir), ["big.safetensors"]);
  assert.not.ok(existsSync(out));
});

test.run();
