// Time-boxed fuzzing of every reader (hostile-inputs.md section 5, step 4): the properties of
// test/hostile/fuzz-props.ts with a fresh seed, printed first so any run can be replayed.
//
//   node --import tsx scripts/fuzz.ts --seconds 600            all properties, time split by share
//   node --import tsx scripts/fuzz.ts --seconds 60 --seed 42   replay / extend one seed
//   node --import tsx scripts/fuzz.ts --only cnt-mutation
//
// A failing input is shrunk, saved as test/hostile/found/<property>-<seed>.bin with a .json
// beside it (mode, problem, replay path), and the script exits 1. Turn each one into a row of
// scripts/make-hostile.ts once the reader is fixed.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { findings, PROPERTIES } from "../test/hostile/fuzz-props.js";
import { HOSTILE_DIR } from "./make-hostile.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const seconds = Number(arg("seconds") ?? 60);
const seed = Number(arg("seed") ?? (Date.now() ^ (process.pid << 16)) >>> 0);
const only = arg("only");
if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isSafeInteger(seed)) {
  console.error("usage: scripts/fuzz.ts [--seconds N] [--seed S] [--only PROPERTY]");
  process.exit(2);
}

const chosen = PROPERTIES.filter((p) => !only || p.name === only);
const shares = chosen.reduce((n, p) => n + p.share, 0);
console.log(`fuzz seed ${seed}, ${seconds} s over ${chosen.map((p) => p.name).join(", ")}`);

let executions = 0;
let failed = 0;
for (const { name, property, share } of chosen) {
  const ms = Math.max(1000, Math.round((seconds * 1000 * share) / shares));
  const started = performance.now();
  const details = await fc.check(property, { seed, numRuns: 1e9, interruptAfterTimeLimit: ms, markInterruptAsFailure: false });
  executions += details.numRuns;
  const took = ((performance.now() - started) / 1000).toFixed(1);
  if (!details.failed) {
    console.log(`  ${name}: ${details.numRuns} runs in ${took} s, no finding`);
    continue;
  }
  failed += 1;
  const finding = findings.get(name);
  const dir = join(HOSTILE_DIR, "found");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${name}-${seed}`);
  if (finding) writeFileSync(`${base}.bin`, finding.bytes);
  writeFileSync(`${base}.json`, `${JSON.stringify({
    property: name,
    seed,
    path: details.counterexamplePath,
    mode: finding?.mode,
    problem: finding?.problem ?? String(details.errorInstance),
    counterexample: fc.stringify(details.counterexample).slice(0, 4000),
  }, null, 2)}\n`);
  console.log(`  ${name}: FINDING after ${details.numRuns} runs (${took} s): ${finding?.problem ?? String(details.errorInstance)}`);
  console.log(`    saved ${base}.bin/.json; replay: --seed ${seed} --only ${name}`);
}
console.log(`${executions} executions, ${failed} finding(s)`);
process.exit(failed > 0 ? 1 : 0);
