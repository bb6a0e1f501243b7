// Everything the CLI prints is whole, even into a pipe that a slow reader drains: a report of
// more than 10 MB through a real pipe parses, and its numbers match a float64 computation.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jsonPieces, toJSON } from "../../src/index.js";
import { f32Bytes, writeSafetensors } from "../helpers/safetensors-writer.js";

const tmp = mkdtempSync(join(tmpdir(), "cntscope-output-"));
const ROWS = 150_000;
const COLS = 16;
const weight = (j: number, i: number) => ((j * COLS + i) % 997) / 997 + 0.1;

/** One dense layer [ROWS, COLS] (PyTorch's [out, in]): 150,016 nodes, each with s, s_in, s_out in the JSON. */
function wideModel(): string {
  const values = new Float32Array(ROWS * COLS);
  for (let j = 0; j < ROWS; j++) for (let i = 0; i < COLS; i++) values[j * COLS + i] = weight(j, i);
  const path = join(tmp, "wide.safetensors");
  writeFileSync(path, writeSafetensors([{ name: "fc.weight", dtype: "F32", shape: [ROWS, COLS], data: f32Bytes(values) }]));
  return path;
}

/** The CLI's stdout through a pipe whose reader takes a chunk every few milliseconds. */
function runThroughSlowPipe(args: string[]): Promise<{ code: number | null; text: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 2);
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, text: Buffer.concat(chunks).toString("utf8"), stderr }));
  });
}

test("analyze --json --per-node into a slow pipe: a report of more than 10 MB arrives whole and right", async () => {
  const model = wideModel();
  const { code, text, stderr } = await runThroughSlowPipe(["analyze", model, "--json", "--per-node"]);
  assert.is(code, 0, stderr);
  assert.ok(text.length > 10_000_000, `the report has ${text.length} characters`);
  const report = JSON.parse(text);
  const hidden = report.nodeLayers[1];
  assert.is(hidden.size, ROWS);
  assert.is(hidden.perNode.sIn.length, ROWS);
  for (const j of [0, 1, 77_777, ROWS - 1]) {
    let sIn = 0;
    for (let i = 0; i < COLS; i++) sIn += Math.fround(weight(j, i));
    assert.ok(Math.abs(hidden.perNode.sIn[j] - sIn) < 1e-9, `node ${j}: s_in ${hidden.perNode.sIn[j]} vs ${sIn}`);
  }
});

test("a reader that closes the pipe early (| head) ends the CLI quietly with exit 0", () => {
  const run = spawnSync("bash", ["-c", `set -o pipefail; ${process.execPath} --import tsx src/cli/main.ts analyze models/digits-mlp.safetensors --json --per-node | head -c 100 >/dev/null`], { encoding: "utf8" });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, "");
});

test("jsonPieces joins to toJSON's text, so a report too large for one string can still be written", () => {
  const value = { a: [1, Number.NaN, { b: new Float64Array([0.1, Infinity, -2]) }], c: undefined, d: "q\"\n", e: [], f: {}, g: new Float32Array(5000).map((_, i) => i / 3) };
  for (const indent of [2, 0]) assert.is([...jsonPieces(value, indent)].join(""), toJSON(value as never, indent));
  assert.ok([...jsonPieces(value)].length > 3, "more than one piece");
});

test.run();
