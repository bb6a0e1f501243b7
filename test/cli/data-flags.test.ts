// The data metrics from the command line and by path: --inputs, --labels, --data-labels, --batch,
// analyzeFile's inputs/labels paths, and docs/data-metrics.md's example. Expected values: the
// float64 numpy forward pass of test/fixtures/forward/make_digits_data.py (accuracy 440/450).
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkFlagsFor, parseArgs, type Command } from "../../src/cli/flags.js";
import { helpText } from "../../src/cli/help.js";
import { analyzeOptions } from "../../src/cli/options.js";
import { analyzeFile } from "../../src/node/analyze-file.js";
import type { NeuronDistribution, Report } from "../../src/report/types.js";
import { rejects } from "../helpers/rejects.js";

const model = "models/digits-mlp.safetensors";
const layoutPath = "models/digits-mlp.layout.json";
const inputs = "models/digits-test-inputs.npy";
const labels = "models/digits-test-labels.npy";
const fixtures = "test/fixtures/forward/inputs";
const tmp = mkdtempSync(join(tmpdir(), "cntscope-data-"));

function cntscope(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Flags as the CLI checks them, without a process. */
function flagsFor(command: Command, ...argv: string[]) {
  const args = parseArgs([command, ...argv]);
  checkFlagsFor(command, args.flags);
  return analyzeOptions(args.flags, command === "population" ? "data-labels" : "labels");
}

function throwsBadOption(run: () => unknown, phrase: string): void {
  assert.throws(run, (e: Error & { code?: string }) => e.code === "BAD_OPTION" && e.message.includes(phrase), phrase);
}

const reference = JSON.parse(readFileSync("test/fixtures/forward/digits-data.expected.json", "utf8")) as {
  samples: number;
  correct: number;
  accuracy: number;
  layers: Record<string, Record<"z" | "a", { count: number; mean: number; std: number; min: number; max: number; perNodeMean: number[]; perNodeStd: number[] }>>;
};

function close(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= 1e-5 * Math.abs(want) + 1e-6, `${what}: ${got} vs ${want}`);
}

/** A node layer's z and a against the float64 reference. */
function assertMatchesReference(report: Report, perNode: boolean): void {
  assert.is(report.data!.samples, 450);
  assert.is(report.data!.correct, reference.correct);
  assert.is(report.data!.labelled, 450);
  assert.is(report.data!.accuracy, 440 / 450);
  for (const after of ["0", "2", "4"]) {
    const layer = report.nodeLayers.find((n) => n.after === after)!;
    for (const [key, which] of [["neuronStrength", "z"], ["neuronActivation", "a"]] as const) {
      const got = layer[key] as NeuronDistribution;
      const want = reference.layers[after][which];
      assert.ok(got, `layer ${after} has ${key}`);
      assert.is(got.count, want.count, `${after} ${which} count`);
      close(got.mean!, want.mean, `${after} ${which} mean`);
      close(got.std!, want.std, `${after} ${which} std`);
      close(got.min!, want.min, `${after} ${which} min`);
      close(got.max!, want.max, `${after} ${which} max`);
      if (perNode) {
        const p = got.perNode as unknown as { mean: ArrayLike<number>; std: ArrayLike<number> };
        assert.is(p.mean.length, want.perNodeMean.length);
        want.perNodeMean.forEach((m, j) => close(p.mean[j], m, `${after} ${which} mean of node ${j}`));
        want.perNodeStd.forEach((s, j) => close(p.std[j], s, `${after} ${which} std of node ${j}`));
      }
    }
  }
  // ReLU layers: a = max(z, 0), so a's min is 0 where some z is negative; the linear output: z = a.
  assert.is(report.nodeLayers.find((n) => n.after === "4")!.neuronActivation!.mean, report.nodeLayers.find((n) => n.after === "4")!.neuronStrength!.mean);
}

test("flags: --inputs, --labels and --batch become analyzeFile options; --data-labels on population; each where it belongs", () => {
  assert.equal(flagsFor("analyze", "m", "--inputs", "x.npy", "--labels", "y.npy", "--batch", "16"), { inputs: "x.npy", labels: "y.npy", batch: 16 });
  assert.equal(flagsFor("report", "m", "--inputs", "x.npz", "-o", "r.html"), { inputs: "x.npz" });
  // population: --labels is the networks' table (not an analysis option), --data-labels the samples' classes
  assert.equal(flagsFor("population", "d", "--inputs", "x.npy", "--data-labels", "y.npy", "--labels", "t.csv"), { inputs: "x.npy", labels: "y.npy" });
  throwsBadOption(() => flagsFor("analyze", "m", "--labels", "y.npy"), "Option --labels gives the class of each input sample, so it needs --inputs");
  throwsBadOption(() => flagsFor("population", "d", "--data-labels", "y.npy"), "Option --data-labels gives the class of each input sample, so it needs --inputs");
  throwsBadOption(() => flagsFor("analyze", "m", "--batch", "8"), "Option --batch sets the samples per forward pass of --inputs, so it needs --inputs");
  throwsBadOption(() => flagsFor("analyze", "m", "--inputs", "x.npy", "--batch", "0"), "Option --batch must be an integer from 1 to 1,048,576");
  throwsBadOption(() => flagsFor("compare", "a", "b", "--inputs", "x.npy"), "Option --inputs is for cntscope analyze, report and population, not cntscope compare");
  throwsBadOption(() => flagsFor("analyze", "m", "--data-labels", "y.npy"), "Option --data-labels is for cntscope population, not cntscope analyze");
  const help = helpText("analyze");
  for (const flag of ["--inputs FILE", "--labels FILE", "--batch N"]) assert.ok(help.includes(flag), flag);
  assert.ok(helpText().includes("docs/data-metrics.md"));
});

test("analyzeFile: a missing, unreadable or mismatched inputs or labels file is an error naming it; files are closed", async () => {
  const fds = () => readdirSync("/proc/self/fd").length;
  const layout = JSON.parse(readFileSync(layoutPath, "utf8"));
  await analyzeFile(model); // kernels loaded, lazy modules imported: what stays open after it is not ours
  const before = fds();
  await rejects(() => analyzeFile(model, { inputs: join(tmp, "missing.npy") }), "NOT_FOUND", `Cannot open the inputs '${join(tmp, "missing.npy")}': no such file or folder`);
  await rejects(() => analyzeFile(model, { inputs, labels: join(tmp, "missing.npy") }), "NOT_FOUND", "Cannot open the labels");
  await rejects(() => analyzeFile(model, { inputs, labels: `${fixtures}/y_i8.npy` }), "BAD_OPTION", `The labels '${fixtures}/y_i8.npy' hold 10 class indices but the inputs '${inputs}' hold 450 samples`);
  await rejects(() => analyzeFile(model, { inputs: `${fixtures}/y.csv` }), "BAD_OPTION", "are neither a .npy array nor a .npz archive");
  await rejects(() => analyzeFile(model, { layout, inputs: `${fixtures}/x_le_f4.npy` }), "BAD_OPTION", "a sample has shape [2, 3] (6 values), but the model takes [64]");
  await rejects(() => analyzeFile(model, { inputs: `${fixtures}/x_fortran.npy` }), "UNSUPPORTED_FORMAT", "Fortran order");
  await rejects(() => analyzeFile(model, { labels }), "BAD_OPTION", "needs inputs");
  assert.is(fds(), before, "every file opened was closed");
});

test("analyzeFile with paths: accuracy 440/450 and z, a of every node layer equal to the float64 forward pass; files closed", async () => {
  const fds = () => readdirSync("/proc/self/fd").length;
  const before = fds();
  const layout = JSON.parse(readFileSync(layoutPath, "utf8"));
  const report = await analyzeFile(model, { layout, inputs, labels, batch: 37, perNode: true });
  assertMatchesReference(report, true);
  assert.is(report.data!.batch, 37);
  assert.is(fds(), before, "the inputs and labels were closed");
});

test("analyzeFile with workers: 2 and paths: each thread opens its share of the samples; the report equals one thread's", async () => {
  // 900 samples (the test set twice, as numpy would save it: the same header with N = 900), so two threads get 450 each.
  const x = readFileSync(inputs);
  const y = readFileSync(labels);
  const twice = (bytes: Buffer, from: string, to: string, data: number) => {
    const header = bytes.subarray(0, bytes.byteLength - data).toString("latin1").replace(from, to.padEnd(from.length));
    return Buffer.concat([Buffer.from(header, "latin1"), bytes.subarray(bytes.byteLength - data), bytes.subarray(bytes.byteLength - data)]);
  };
  writeFileSync(join(tmp, "x900.npy"), twice(x, "(450, 64)", "(900, 64)", 450 * 64 * 4));
  writeFileSync(join(tmp, "y900.npy"), twice(y, "(450,)", "(900,)", 450 * 8));
  const layout = JSON.parse(readFileSync(layoutPath, "utf8"));
  const options = { layout, inputs: join(tmp, "x900.npy"), labels: join(tmp, "y900.npy"), batch: 50, perNode: true };
  const one = await analyzeFile(model, { ...options, workers: 1 });
  const two = await analyzeFile(model, { ...options, workers: 2 });
  assert.is(one.data!.samples, 900);
  assert.is(one.data!.correct, 880);
  assert.equal(two.data, one.data);
  for (const [i, n] of one.nodeLayers.entries()) {
    for (const key of ["neuronStrength", "neuronActivation"] as const) {
      const a = n[key];
      const b = two.nodeLayers[i][key];
      if (!a) {
        assert.is(b, undefined);
        continue;
      }
      assert.is(b!.count, a.count);
      close(b!.mean!, a.mean!, `${key} mean of node layer ${i}`);
      close(b!.std!, a.std!, `${key} std of node layer ${i}`);
      assert.is(b!.min, a.min);
      assert.is(b!.max, a.max);
    }
  }
});

test("cntscope analyze --inputs --labels: the table shows the accuracy and z, a per node layer; --json has them as the report does", () => {
  const table = cntscope("analyze", model, "--layout", layoutPath, "--inputs", inputs, "--labels", labels);
  assert.is(table.code, 0, table.stderr);
  assert.match(table.stdout, /Data: 450 samples of input in batches of 64/);
  assert.match(table.stdout, /accuracy: 0\.9778 \(440 of 450 labelled samples\)/);
  assert.match(table.stdout, /mean s_out\s+mean z\s+std z\s+mean a\s+std a\n/);
  assert.match(table.stdout, /\nz: neuron strength, the weighted sum into a node \(bias included\); a: its activation f\(z\)/);
  // Rows of the node layers after 0, 2, 4: their last four cells are mean z, std z, mean a, std a (five significant digits).
  const rows = table.stdout.split("\n").filter((l) => /^[123]\s+[024]\s+(32|16|10)\s/.test(l));
  assert.is(rows.length, 3, table.stdout);
  for (const [i, after] of ["0", "2", "4"].entries()) {
    const cells = rows[i].trim().split(/\s+/).slice(-4).map(Number);
    const want = reference.layers[after];
    [want.z.mean, want.z.std, want.a.mean, want.a.std].forEach((w, k) => assert.ok(Math.abs(cells[k] - w) <= 1e-4 * Math.abs(w), `${after} cell ${k}: ${cells[k]} vs ${w}`));
  }
  const json = cntscope("analyze", model, "--layout", layoutPath, "--inputs", inputs, "--labels", labels, "--json", "--per-node", "--batch", "100");
  assert.is(json.code, 0, json.stderr);
  assertMatchesReference(JSON.parse(json.stdout) as Report, true);
  const missing = cntscope("analyze", model, "--inputs", join(tmp, "nope.npy"));
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /^NOT_FOUND: Cannot open the inputs '.*nope\.npy': no such file or folder/);
});

test("cntscope population --inputs --data-labels --bin data.accuracy: networks binned by their measured accuracy", () => {
  const runs = join(tmp, "runs");
  mkdirSync(runs, { recursive: true });
  copyFileSync(model, join(runs, "a.safetensors"));
  copyFileSync(model, join(runs, "b.safetensors"));
  const out = join(tmp, "pop");
  const r = cntscope("population", runs, "--layout", layoutPath, "--inputs", inputs, "--data-labels", labels, "--bin", "data.accuracy:0,0.9,1", "--workers", "1", "-o", out, "--json");
  assert.is(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { networks: number; groups: { name: string; n: number }[] };
  assert.is(summary.networks, 2);
  assert.equal(summary.groups.map((g) => [g.name, g.n]), [["0.00\u20130.90", 0], ["0.90\u20131.00", 2]]);
  const noData = cntscope("population", runs, "--bin", "data.accuracy:0,0.9,1", "-o", out);
  assert.is(noData.code, 2);
  assert.match(noData.stderr, /Grouping by data\.accuracy needs each network's accuracy on labelled samples: give --inputs and --data-labels/);
});

test("docs/data-metrics.md: its Node example runs and prints the accuracy and each layer's z and a", () => {
  const doc = readFileSync("docs/data-metrics.md", "utf8");
  const example = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes('from "cntscope/node"'));
  assert.ok(example, "the doc has a Node example");
  const file = join(process.cwd(), "data-metrics-example.test-tmp.mts");
  writeFileSync(file, example!.replace('from "cntscope/node"', `from ${JSON.stringify(join(process.cwd(), "src/node/index.ts"))}`));
  try {
    const run = spawnSync(process.execPath, ["--import", "tsx", file], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } });
    assert.is(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.is(lines[0], "0.9777777777777777 440 450");
    assert.is(lines.length, 4);
    for (const [i, after] of ["0", "2", "4"].entries()) {
      const [name, , zMean, zStd, , aMean, aStd] = lines[i + 1].split(" ");
      const want = reference.layers[after];
      assert.is(name, after);
      assert.is(zMean, want.z.mean.toFixed(4));
      assert.is(zStd, want.z.std.toFixed(4));
      assert.is(aMean, want.a.mean.toFixed(4));
      assert.is(aStd, want.a.std.toFixed(4));
    }
  } finally {
    rmSync(file, { force: true });
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
