// Cold start of the packed package: from `import("cntscope")` to the first report on the bundled
// model, in fresh processes (`node --import tsx bench/cold-start.bench.ts [--runs N]`).
//
// Not tinybench: a cold start happens once per process, so each sample is a new process (Node)
// or a new workerd (miniflare), and the median of the runs is printed. Node reports its own
// clock; inside workerd the clock stands still while a request runs (Spectre mitigation), so
// there the times are taken from outside: workerd's start with the Worker loaded (its modules
// evaluated, the wasm compiled) and the first POST's round trip over loopback.
// The Worker is the README's (init(wasm)), bundled with wrangler's conditions.
// The CLI's start-up is timed as whole processes too: the installed bin (the bundle in dist/bin,
// scripts/build-cli.mjs) running `cntscope analyze` of the bundled model against `node -e 0`, run
// in turn (A B A B ...) and divided pair by pair, so a drift of the machine's speed hits both
// sides of each ratio; the median ratio is printed (goal: 1.5). The same for `npm start`'s
// command (with the layout, and the forward pass on the 450 test digits with their labels).
// Results also go to bench/results/cold-start.json with the machine they ran on.
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { MODEL, installPacked, run } from "../test/runtimes/packed.js";
import { README_WORKER, WRANGLER_CONDITIONS, bundleWorker, startWorkerd } from "../test/runtimes/workerd-harness.js";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const WORKERD_RUNS = Math.max(3, Math.round(RUNS / 3));
const TARGET_MS = 20;

// The model's bytes are read before the clock starts: the library's cost, not the disk's.
const COLD = `import { readFile } from "node:fs/promises";
const bytes = new Uint8Array(await readFile(${JSON.stringify(MODEL)}));
const t0 = performance.now();
const { analyze, init } = await import("cntscope");
const t1 = performance.now();
await init(); // what analyze() would do first: read and compile the wasm
const tInit = performance.now();
await analyze(bytes);
const t2 = performance.now();
await analyze(bytes);
const t3 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, initMs: tInit - t1, firstReportMs: t2 - t1, secondReportMs: t3 - t2, totalMs: t2 - t0, processStartMs: t0 }));
`;

interface NodeSample {
  importMs: number;
  initMs: number;
  firstReportMs: number;
  secondReportMs: number;
  totalMs: number;
  processStartMs: number;
  wallMs: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

const packed = installPacked();
writeFileSync(join(packed.app, "cold.mjs"), COLD);
console.log(`cntscope cold start on ${cpus()[0]?.model ?? "unknown CPU"} x${cpus().length}, Node ${process.version}; packed tarball ${packed.size} bytes`);

const nodeSamples: NodeSample[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = run(process.execPath, ["cold.mjs"], { cwd: packed.app });
  if (r.status !== 0) throw new Error(`node cold.mjs failed: ${r.stderr}`);
  nodeSamples.push({ ...(JSON.parse(r.stdout) as Omit<NodeSample, "wallMs">), wallMs: r.ms });
}
const node = {
  runs: RUNS,
  importMs: median(nodeSamples.map((s) => s.importMs)),
  initMs: median(nodeSamples.map((s) => s.initMs)),
  firstReportMs: median(nodeSamples.map((s) => s.firstReportMs)),
  secondReportMs: median(nodeSamples.map((s) => s.secondReportMs)),
  totalMs: median(nodeSamples.map((s) => s.totalMs)),
  processWallMs: median(nodeSamples.map((s) => s.wallMs)),
};
console.log(
  [
    `Node (median of ${RUNS} fresh processes):`,
    `  import("cntscope")                       ${ms(node.importMs)}`,
    `  first report after import                ${ms(node.firstReportMs)}  target < ${TARGET_MS} ms: ${node.firstReportMs < TARGET_MS ? "met" : "MISSED"}`,
    `    of which init() (read + compile wasm)  ${ms(node.initMs)}`,
    `  second report (warm)                     ${ms(node.secondReportMs)}`,
    `  import to first report                   ${ms(node.totalMs)}`,
    `  whole process (node start to exit)       ${ms(node.processWallMs)}`,
  ].join("\n"),
);

// The CLI against a bare Node, paired run by run (wall time of each whole process).
const CLI_TARGET = 1.5;
const BIN = "node_modules/cntscope/dist/bin/cntscope.js";
const MODELS = "node_modules/cntscope/models";
const START_ARGS = ["--layout", `${MODELS}/digits-mlp.layout.json`, "--inputs", `${MODELS}/digits-test-inputs.npy`, "--labels", `${MODELS}/digits-test-labels.npy`];
function cliAgainstNode(args: string[]) {
  const pairs: { cliMs: number; nodeMs: number; ratio: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const cli = run(process.execPath, [BIN, ...args], { cwd: packed.app });
    if (cli.status !== 0) throw new Error(`cntscope ${args.join(" ")} failed: ${cli.stderr}`);
    const bare = run(process.execPath, ["-e", "0"], { cwd: packed.app });
    pairs.push({ cliMs: cli.ms, nodeMs: bare.ms, ratio: cli.ms / bare.ms });
  }
  return {
    runs: RUNS,
    args,
    cliMs: median(pairs.map((p) => p.cliMs)),
    nodeMs: median(pairs.map((p) => p.nodeMs)),
    ratio: median(pairs.map((p) => p.ratio)),
    ratioMin: Math.min(...pairs.map((p) => p.ratio)),
    ratioMax: Math.max(...pairs.map((p) => p.ratio)),
    pairs,
  };
}
const cliStart = cliAgainstNode(["analyze", MODEL]);
const npmStart = cliAgainstNode(["analyze", MODEL, ...START_ARGS]);
console.log(
  [
    `CLI start-up (median of ${RUNS} pairs of fresh processes, run in turn; wall):`,
    `  cntscope analyze <bundled model>         ${ms(cliStart.cliMs)}`,
    `  node -e 0                                ${ms(cliStart.nodeMs)}`,
    `  ratio, pair by pair                      ${cliStart.ratio.toFixed(2)} (${cliStart.ratioMin.toFixed(2)}-${cliStart.ratioMax.toFixed(2)})  target <= ${CLI_TARGET}: ${cliStart.ratio <= CLI_TARGET ? "met" : "MISSED"}`,
    `  npm start's command (layout, forward pass on 450 digits, labels)`,
    `    cntscope analyze ... --inputs --labels ${ms(npmStart.cliMs)}`,
    `    node -e 0                              ${ms(npmStart.nodeMs)}`,
    `    ratio, pair by pair                    ${npmStart.ratio.toFixed(2)} (${npmStart.ratioMin.toFixed(2)}-${npmStart.ratioMax.toFixed(2)})`,
  ].join("\n"),
);

const model = readFileSync(join(packed.app, MODEL));
const worker = await bundleWorker(README_WORKER, join(packed.app, "workers", "bench"), WRANGLER_CONDITIONS);
const workerdSamples: { readyMs: number; firstReportMs: number; secondReportMs: number }[] = [];
for (let i = 0; i < WORKERD_RUNS; i++) {
  const t0 = performance.now();
  const mf = startWorkerd([{ name: "bench", scriptPath: worker.scriptPath }]);
  try {
    const url = await mf.ready;
    const t1 = performance.now();
    const first = await fetch(new URL("/analyze", url), { method: "POST", body: model });
    const text = await first.text();
    if (first.status !== 200) throw new Error(`workerd answered ${first.status}: ${text.slice(0, 500)}`);
    const t2 = performance.now();
    await (await fetch(new URL("/analyze", url), { method: "POST", body: model })).text();
    workerdSamples.push({ readyMs: t1 - t0, firstReportMs: t2 - t1, secondReportMs: performance.now() - t2 });
  } finally {
    await mf.dispose();
  }
}
const workerd = {
  runs: WORKERD_RUNS,
  readyMs: median(workerdSamples.map((s) => s.readyMs)),
  firstReportMs: median(workerdSamples.map((s) => s.firstReportMs)),
  secondReportMs: median(workerdSamples.map((s) => s.secondReportMs)),
  coldExtraMs: median(workerdSamples.map((s) => s.firstReportMs - s.secondReportMs)),
};
console.log(
  [
    `workerd via miniflare (median of ${WORKERD_RUNS} fresh workerd processes; times from outside, loopback HTTP included):`,
    `  start, Worker loaded and wasm compiled   ${ms(workerd.readyMs)}`,
    `  first POST to report                     ${ms(workerd.firstReportMs)}`,
    `  second POST (warm)                       ${ms(workerd.secondReportMs)}`,
    // The round trips include miniflare's loopback HTTP and entry Worker; the first's extra
    // over a warm one is what the cold start costs inside workerd (init(wasm) is an instantiate).
    `  cold extra (first - second)              ${ms(workerd.coldExtraMs)}  target < ${TARGET_MS} ms: ${workerd.coldExtraMs < TARGET_MS ? "met" : "MISSED"}`,
  ].join("\n"),
);

writeFileSync(
  "bench/results/cold-start.json",
  JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, packedBytes: packed.size, targetMs: TARGET_MS, nodeCold: node, cliStart, npmStart, workerd, nodeSamples, workerdSamples }, null, 2),
);
