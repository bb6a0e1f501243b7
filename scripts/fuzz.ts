// Time-boxed fuzzing of every reader (hostile-inputs.md section 5, step 4): the properties of
// test/hostile/fuzz-props.ts (bytes, safetensors, .cnt) and of test/hostile/fuzz-readers.test.ts
// (ONNX, .npy, .npz, TF.js, Keras mutated from the valid fixtures) with a fresh seed, printed first so
// any run can be replayed.
//
//   node --import tsx scripts/fuzz.ts --seconds 600            all properties, time split by share
//   node --import tsx scripts/fuzz.ts --seconds 60 --seed 42   replay / extend one seed
//   node --import tsx scripts/fuzz.ts --only cnt-mutation
//   node --import tsx scripts/fuzz.ts --only onnx --seconds 300   one reader: onnx | npy | npz | tfjs | keras | pytorch
//
// A failing input is shrunk and saved under test/hostile/found/: <property>-<seed>.bin (one-file
// properties) or the directory <property>-<seed>/ holding every file of the input (the mutated
// model.json and shards, the ONNX model and its external data), with <property>-<seed>.json
// beside it (mode, problem, replay), and the script exits 1. Turn each one into a row of
// scripts/make-hostile.ts, or a regression test in fuzz-readers.test.ts, once the reader is fixed.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { findings, PROPERTIES } from "../test/hostile/fuzz-props.js";
import { HOSTILE_DIR } from "./make-hostile.js";

// The reader properties live in a uvu test file: this variable makes it skip its tests on import.
process.env.CNTSCOPE_FUZZ_LIBRARY = "1";
const readers = await import("../test/hostile/fuzz-readers.test.js");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const ALL: readonly { name: string; property: fc.IAsyncProperty<never>; share: number; reader?: true }[] = [
  ...PROPERTIES,
  ...readers.READER_PROPERTIES.map((p) => ({ ...p, share: 2, reader: true as const })),
];

const seconds = Number(arg("seconds") ?? 60);
const seed = Number(arg("seed") ?? (Date.now() ^ (process.pid << 16)) >>> 0);
const only = arg("only");
if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isSafeInteger(seed) || (only && !ALL.some((p) => p.name === only))) {
  console.error(`usage: scripts/fuzz.ts [--seconds N] [--seed S] [--only ${ALL.map((p) => p.name).join("|")}]`);
  process.exit(2);
}

const chosen = ALL.filter((p) => !only || p.name === only);
const shares = chosen.reduce((n, p) => n + p.share, 0);
console.log(`fuzz seed ${seed}, ${seconds} s over ${chosen.map((p) => p.name).join(", ")}`);

let executions = 0;
let failed = 0;
for (const { name, property, share, reader } of chosen) {
  const ms = Math.max(1000, Math.round((seconds * 1000 * share) / shares));
  const started = performance.now();
  const details = await fc.check(property, { seed, numRuns: 1e9, interruptAfterTimeLimit: ms, markInterruptAsFailure: false });
  executions += details.numRuns;
  const took = ((performance.now() - started) / 1000).toFixed(1);
  const known = reader ? readers.knownSkips.get(name) : undefined;
  const note = known ? ` (${known} inputs only inspected: KNOWN issue, see fuzz-readers.test.ts)` : "";
  if (!details.failed) {
    console.log(`  ${name}: ${details.numRuns} runs in ${took} s, no finding${note}`);
    continue;
  }
  failed += 1;
  const dir = join(HOSTILE_DIR, "found");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${name}-${seed}`);
  let problem = String(details.errorInstance);
  let mode: string | undefined;
  let saved: string[] = [];
  if (reader) {
    const finding = readers.readerFindings.get(name);
    if (finding) {
      problem = `${finding.problem} [${finding.what}]`;
      mode = `${finding.input.mode}${finding.input.inspect ? ", inspect" : ""}`;
      if (finding.input.files.size === 1) {
        writeFileSync(`${base}.bin`, finding.input.files.get(finding.input.main)!);
        saved = [`${base}.bin`];
      } else {
        mkdirSync(base, { recursive: true });
        for (const [file, bytes] of finding.input.files) writeFileSync(join(base, file.replaceAll("/", "_")), bytes);
        saved = [`${base}/ (main file ${finding.input.main})`];
      }
    }
  } else {
    const finding = findings.get(name);
    if (finding) {
      writeFileSync(`${base}.bin`, finding.bytes);
      saved = [`${base}.bin`];
      problem = finding.problem;
      mode = finding.mode;
    }
  }
  writeFileSync(`${base}.json`, `${JSON.stringify({
    property: name,
    seed,
    path: details.counterexamplePath,
    mode,
    problem,
    counterexample: fc.stringify(details.counterexample).slice(0, 4000),
  }, null, 2)}\n`);
  console.log(`  ${name}: FINDING after ${details.numRuns} runs (${took} s): ${problem}`);
  console.log(`    saved ${[...saved, `${base}.json`].join(", ")}; replay: --seed ${seed} --only ${name}`);
}
console.log(`${executions} executions, ${failed} finding(s)`);
process.exit(failed > 0 ? 1 : 0);
