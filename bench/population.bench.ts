// A population of 1,000 small networks (issue 18 point 4): copies of the bundled MLP with perturbed
// weights, made at run time in a temporary folder (test/population/fanout-networks.ts), analyzed
// in one process, many files. Same run, same files:
//  - `cntscope population DIR -o OUT --workers 1 | 2` as a user runs it (the built CLI, whole
//    process: start-up, every analysis, the statistics and the output files), wall time, files/s;
//  - partialsOfFiles in this process (the analyses alone), 1 and 2 threads, files/s and CPU
//    milliseconds per file (all threads: what the machine pays, whatever else runs on it);
//  - `cntscope analyze FILE --json` in a new process per file, on a sample of files: the median
//    process times 1,000, the cost of a shell loop over the files, as a ratio to the population run.
// node --import tsx bench/population.bench.ts [--files 1000] [--startups 10]
// Results also go to bench/results/population.json with the machine they ran on.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writePerturbedNetworks } from "../test/population/fanout-networks.js";

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const FILES = arg("--files", 1000);
const STARTUPS = arg("--startups", 10);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "dist/bin/cntscope.js");
if (!existsSync(CLI)) throw new Error("bench/population.bench.ts runs the built CLI: npm run build first.");

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Run the built CLI; wall milliseconds. */
function cli(args: string[]): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`cntscope ${args.join(" ")} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  return ms;
}

const dir = mkdtempSync(join(tmpdir(), "cntscope-population-bench-"));
try {
  const models = join(dir, "models");
  const names = writePerturbedNetworks(models, FILES);
  console.log(`cntscope population bench on ${cpus()[0]?.model ?? "unknown CPU"} x${cpus().length}, Node ${process.version}: ${FILES} copies of the bundled MLP (64-32-16-10) in ${models}`);

  const results: Record<string, number> = { files: FILES };
  const { partialsOfFiles } = (await import(join(ROOT, "dist/node/population-workers.js"))) as typeof import("../src/node/population-workers.js");
  const inputs = names.map((file) => ({ path: join(models, file), file }));
  for (const workers of [1, 2]) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const { partials, failed } = await partialsOfFiles(inputs, { workers });
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    if (partials.length !== FILES || failed.length > 0) throw new Error(`partialsOfFiles: ${partials.length} partials, ${failed.length} failed`);
    results[`api${workers}FilesPerS`] = (FILES / ms) * 1000;
    results[`api${workers}CpuMsPerFile`] = (used.user + used.system) / 1000 / FILES;
    console.log(`  partialsOfFiles, ${workers} thread${workers > 1 ? "s" : ""}: ${(ms / 1000).toFixed(1)} s, ${results[`api${workers}FilesPerS`].toFixed(1)} files/s, ${results[`api${workers}CpuMsPerFile`].toFixed(1)} ms of CPU per file`);
  }

  const hasPopulation = spawnSync(process.execPath, [CLI, "--help"], { encoding: "utf8" }).stdout.includes("cntscope population");
  if (hasPopulation) {
    for (const workers of [1, 2]) {
      const out = join(dir, `out-${workers}`);
      const ms = cli(["population", models, "-o", out, "--workers", String(workers), "--quiet"]);
      results[`cli${workers}Ms`] = ms;
      console.log(`  cntscope population --workers ${workers}: ${(ms / 1000).toFixed(1)} s for ${FILES} files (${((FILES / ms) * 1000).toFixed(1)} files/s, ${readdirSync(out).length} output files)`);
    }
  } else console.log("  (this build has no `cntscope population` command: the CLI lines are left out)");

  const startups: number[] = [];
  for (let i = 0; i < STARTUPS; i++) startups.push(cli(["analyze", join(models, names[Math.floor((i * FILES) / STARTUPS)]), "--json", "--quiet"]));
  const perProcess = median(startups);
  results.analyzeProcessMs = perProcess;
  const loop = perProcess * FILES;
  const best = hasPopulation ? Math.min(results.cli1Ms, results.cli2Ms) : (FILES / Math.max(results.api1FilesPerS, results.api2FilesPerS)) * 1000;
  results.loopOverPopulation = loop / best;
  console.log(`  cntscope analyze, one process per file: median ${perProcess.toFixed(0)} ms over ${STARTUPS} runs, so ${(loop / 1000).toFixed(0)} s for ${FILES} files: ${results.loopOverPopulation.toFixed(1)}x the ${hasPopulation ? "population run" : "partialsOfFiles run"} (its best of 1 and 2 threads)`);

  writeFileSync(join(ROOT, "bench/results/population.json"), JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, ...results }, null, 2) + "\n");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
