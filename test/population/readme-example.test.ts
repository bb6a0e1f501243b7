// The README's population example, run as a user would: through the package's own name, against
// the built dist/ (as test/api/readme-examples.test.ts runs the others).
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";

const readme = readFileSync("README.md", "utf8");
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

test("the README's population example prints each layer's fluctuation Spearman (positive) and LOO accuracy", () => {
  const example = blocks.find((b) => b.includes("populationFiles("));
  assert.ok(example, "the README has the example");
  const file = "readme-example-population.test-tmp.mjs";
  writeFileSync(file, example!);
  try {
    const run = spawnSync(process.execPath, [file], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } });
    assert.is(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines.map((l) => l.split(" ")[0]), ["input", "0", "2", "4"]);
    for (const l of lines) assert.ok(Number(l.split(" ")[1]) > 0.5, l);
  } finally {
    rmSync(file, { force: true });
  }
});

test.run();
