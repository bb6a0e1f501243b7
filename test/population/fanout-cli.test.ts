/**
 * The population command fanned out, as a user runs it (the CLI in child processes): the test
 * population of test/fixtures/population (24 MLPs with their labels) plus one file that cannot be
 * read. Whatever the number of threads, and whether the run is one process or shards merged
 * afterwards, every output file must be the same bytes; the unreadable file is a row of
 * failed.csv (its code from the definition: the header names more bytes than the file has is
 * TRUNCATED), --strict stops on it, and a missing or doubled shard is refused naming the files.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

const FIXTURE = "test/fixtures/population";
const dir = mkdtempSync(join(tmpdir(), "cntscope-fanout-cli-"));
const models = join(dir, "models");
const labels = join(dir, "labels.csv");
const GROUPS = ["--labels", labels, "--bin", "accuracy:0,.25,.7,.9,.975,1", "--seed", "7"];

function cntscope(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args, "--quiet"], { encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Every file of an output folder: name -> text. */
function folder(path: string): Record<string, string> {
  return Object.fromEntries(readdirSync(path).sort().map((name) => [name, readFileSync(join(path, name), "utf8")]));
}

function assertSameFolder(actual: string, expected: string, label: string) {
  const a = folder(actual);
  const e = folder(expected);
  assert.equal(Object.keys(a), Object.keys(e), `${label}: the same files`);
  for (const name of Object.keys(e)) assert.ok(a[name] === e[name], `${label}: ${name} must be the same bytes`);
}

test.before(() => {
  mkdirSync(models);
  for (const name of readdirSync(FIXTURE).filter((n) => n.endsWith(".safetensors"))) copyFileSync(join(FIXTURE, name), join(models, name));
  writeFileSync(join(models, "broken.safetensors"), readFileSync(join(FIXTURE, "s0-t0.safetensors")).subarray(0, 300));
  writeFileSync(labels, `${readFileSync(join(FIXTURE, "labels.csv"), "utf8").trimEnd()}\nbroken.safetensors,0.5,9,9,64-32-16-10 tanh\n`);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test("population: 1 and 2 threads write the same bytes; the unreadable file is a row of failed.csv", () => {
  const one = cntscope("population", models, ...GROUPS, "-o", join(dir, "one"), "--workers", "1");
  assert.is(one.code, 0, one.stderr);
  const two = cntscope("population", models, ...GROUPS, "-o", join(dir, "two"), "--workers", "2");
  assert.is(two.code, 0, two.stderr);
  assertSameFolder(join(dir, "two"), join(dir, "one"), "--workers 2 against --workers 1");
  const failed = readFileSync(join(dir, "one", "failed.csv"), "utf8").trimEnd().split("\n");
  assert.is(failed[0], "file,code,message");
  assert.is(failed.length, 2);
  assert.match(failed[1], /^broken\.safetensors,TRUNCATED,/);
  assert.match(one.stdout, /failed: broken\.safetensors: TRUNCATED: /);
  // The 24 readable networks are the population: 24 of them in networks.csv, one row per layer.
  const files = new Set(readFileSync(join(dir, "one", "networks.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(",")[0]));
  assert.is(files.size, 24);
  assert.not.ok(files.has("broken.safetensors"));
});

test("--strict stops at the unreadable file with its code", () => {
  const r = cntscope("population", models, ...GROUPS, "-o", join(dir, "strict"), "--strict");
  assert.is(r.code, 2);
  assert.match(r.stderr, /^TRUNCATED: .*broken\.safetensors/);
});

test("--shard i/n then merge: the same bytes as one run, for 3 and 4 shards", () => {
  for (const n of [3, 4]) {
    const parts = join(dir, `parts-${n}`);
    for (let i = 0; i < n; i++) {
      const r = cntscope("population", models, "--labels", labels, "--shard", `${i}/${n}`, "-o", parts, "--workers", String(1 + (i % 2)));
      assert.is(r.code, 0, r.stderr);
    }
    assert.equal(readdirSync(parts).sort(), Array.from({ length: n }, (_, i) => `part-${i}-of-${n}.json`));
    const merged = cntscope("merge", parts, ...GROUPS, "-o", join(dir, `merged-${n}`));
    assert.is(merged.code, 0, merged.stderr);
    assertSameFolder(join(dir, `merged-${n}`), join(dir, "one"), `${n} shards merged`);
  }
});

test("merge refuses a missing shard, a shard twice and a folder of nothing, naming the files", () => {
  const parts = join(dir, "parts-3");
  const partial = join(dir, "partial");
  mkdirSync(partial);
  copyFileSync(join(parts, "part-0-of-3.json"), join(partial, "part-0-of-3.json"));
  copyFileSync(join(parts, "part-2-of-3.json"), join(partial, "part-2-of-3.json"));
  let r = cntscope("merge", partial, "-o", join(dir, "never"));
  assert.is(r.code, 2);
  assert.match(r.stderr, /^SHARD_MISSING: Shard 1 of 3 is missing \(have 2: ".*part-0-of-3\.json", ".*part-2-of-3\.json"\)/);
  r = cntscope("merge", parts, join(parts, "part-1-of-3.json"), "-o", join(dir, "never"));
  assert.is(r.code, 2);
  assert.match(r.stderr, /^SHARD_OVERLAP: Shards ".*part-1-of-3\.json" and ".*part-1-of-3\.json" are both shard 1 of 3/);
  const empty = join(dir, "empty");
  mkdirSync(empty);
  r = cntscope("merge", empty, "-o", join(dir, "never"));
  assert.is(r.code, 2);
  assert.match(r.stderr, /^SHARD_MISSING: Folder ".*empty" holds no \.json/);
  r = cntscope("population", models, "--shard", "3/3", "-o", join(dir, "never"));
  assert.is(r.code, 2);
  assert.match(r.stderr, /^BAD_OPTION: Option --shard must be i\/n/);
});

test.run();
