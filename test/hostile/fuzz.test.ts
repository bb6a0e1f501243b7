// Property tests of hostile-inputs.md section 5 with fast-check: arbitrary bytes (bare, behind a
// safetensors length and '{', behind the .cnt prefix) and one structure-aware mutation of a valid
// random model in each format end in a report or an expected CntError, fast and in bounded memory.
// A fixed seed and a bounded number of runs keep `npm test` deterministic (~15 s); longer
// time-boxed runs with a fresh seed: `node --import tsx scripts/fuzz.ts --seconds 600`.
import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PROPERTIES } from "./fuzz-props.js";

const SEED = 20240611;
/** Runs per unit of share; the properties together take about 15 s here. */
const RUNS = 800;

for (const { name, property, share } of PROPERTIES) {
  test(`fuzz ${name}: ${RUNS * share} runs, seed ${SEED}`, async () => {
    const details = await fc.check(property, { seed: SEED, numRuns: RUNS * share, endOnFailure: true });
    assert.not.ok(details.failed, details.failed ? `${name}: ${String(details.errorInstance)}\ncounterexample: ${fc.stringify(details.counterexample).slice(0, 2000)}\nreplay with seed ${details.seed}, path "${details.counterexamplePath}"` : "");
  });
}

test.run();
