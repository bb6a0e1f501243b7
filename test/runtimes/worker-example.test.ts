/**
 * The serverless fan-out (issue 18 point 3): examples/worker, bundled as wrangler bundles it
 * (esbuild with the "workerd" condition, the wasm a CompiledWasm module) against the packed
 * package, run in workerd through miniflare as three Workers (three isolates), with an R2 bucket.
 * examples/worker/fan-out.mjs sends a population to them round-robin, several requests at once:
 * models POSTed, read from R2 by key, and fetched by the Worker from a URL (a local server), plus
 * one model that cannot be read. Every partial must be the same JSON text as the one Node makes
 * of the same file (partialsOfFiles), and merging the folder must give the one-process list and
 * the same population files.
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { partialsOfFiles } from "../../src/node/population-workers.js";
import { populationOutputs } from "../../src/population/outputs.js";
import { population } from "../../src/population/population.js";
import { mergePieces, readMergePiece } from "../../src/population/shards.js";
import { writePerturbedNetworks } from "../population/fanout-networks.js";
import { ROOT, installPacked, tempDir } from "./packed.js";
import { COMPATIBILITY_DATE, WRANGLER_CONDITIONS, bundleWorker } from "./workerd-harness.js";
// @ts-expect-error -- the example is plain JavaScript, as a user copies it.
import { fanOut } from "../../examples/worker/fan-out.mjs";

const ISOLATES = 3;

test("examples/worker in workerd: a population fanned out to three isolates merges to the one-process partials", async () => {
  const { app } = installPacked();
  const worker = await bundleWorker(readFileSync(join(ROOT, "examples/worker/src/index.js"), "utf8"), join(app, "workers", "example"), WRANGLER_CONDITIONS);
  assert.ok(worker.inputs.includes("dist/entry/workerd.js"), `"cntscope" must resolve to the workerd entry; esbuild took ${worker.inputs.join(", ")}`);

  const dir = tempDir("cntscope-worker-pop-");
  const models = join(dir, "models");
  const names = writePerturbedNetworks(models, 7);
  writeFileSync(join(models, "broken.safetensors"), readFileSync(join(models, names[0])).subarray(0, 300));
  const served = names[6];
  const server = createServer((request, response) => {
    const bytes = readFileSync(join(models, served));
    if (request.url !== `/${served}`) return void response.writeHead(404).end();
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.byteLength }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const mf = new Miniflare({
    host: "127.0.0.1",
    workers: Array.from({ length: ISOLATES }, (_, i) => ({
      name: `partial-${i}`,
      modules: true,
      scriptPath: worker.scriptPath,
      modulesRoot: join(app, "workers", "example"),
      modulesRules: [{ type: "CompiledWasm" as const, include: ["**/*.wasm"] }],
      compatibilityDate: COMPATIBILITY_DATE,
      r2Buckets: { MODELS: "models" },
    })),
  });
  try {
    await mf.ready;
    const bucket = await mf.getR2Bucket("MODELS");
    for (const name of names.slice(4, 6)) await bucket.put(`runs/${name}`, new Uint8Array(readFileSync(join(models, name))));
    const fetchers = await Promise.all(Array.from({ length: ISOLATES }, (_, i) => mf.getWorker(`partial-${i}`)));
    const used = new Set<number>();
    let turn = 0;
    // Round-robin over the isolates, as a load balancer would spread the requests.
    const send = (url: string, init: RequestInit) => {
      const i = turn++ % ISOLATES;
      used.add(i);
      return (fetchers[i] as unknown as { fetch(u: string, i: RequestInit): Promise<Response> }).fetch(url, init);
    };
    const parts = join(dir, "parts");
    const sent = [...names.slice(0, 4).map((n) => join(models, n)), ...names.slice(4, 6).map((n) => `r2:runs/${n}`), `${origin}/${served}`, join(models, "broken.safetensors")];
    const counts = await fanOut({ worker: "http://worker", models: sent, out: parts, concurrency: 4, send });
    assert.equal(counts, { partials: 7, failures: 1 });
    assert.is(used.size, ISOLATES);

    // Each partial is the JSON text Node makes of the same file.
    const node = await partialsOfFiles([...names, "broken.safetensors"].map((file) => ({ path: join(models, file), file })), { workers: 1 });
    for (const partial of node.partials) {
      const fromWorker = readFileSync(join(parts, `${partial.file}.json`), "utf8");
      const fromNode = JSON.stringify(partial);
      const at = [...fromNode].findIndex((c, i) => c !== fromWorker[i]);
      assert.ok(fromWorker === fromNode, `the Worker's partial of ${partial.file} must equal Node's, byte for byte; from character ${at}: ${fromWorker.slice(at - 80, at + 80)} against ${fromNode.slice(at - 80, at + 80)}`);
    }
    const failed = JSON.parse(readFileSync(join(parts, "broken.safetensors.failed.json"), "utf8")) as { failed: { file: string; code: string; message: string }[] };
    assert.equal(failed.failed.map((f) => [f.file, f.code]), [["broken.safetensors", "TRUNCATED"]]);

    // The folder merges to the one-process list (the partials and the failure).
    const pieces = readdirSync(parts).map((f) => readMergePiece(readFileSync(join(parts, f), "utf8"), join(parts, f)));
    const merged = mergePieces(pieces);
    assert.is(JSON.stringify(merged.partials), JSON.stringify(node.partials));
    assert.equal(merged.failed.map((f) => [f.file, f.code]), node.failed.map((f) => [f.file, f.code]));
    // And so the population's files: `cntscope merge` of the folder writes what `cntscope population`
    // of the models writes in one process, byte for byte (failed.csv included).
    assert.equal(populationOutputs(population(merged.partials, { seed: 3 })), populationOutputs(population(node.partials, { seed: 3 })));
    const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), ...args, "--quiet"], { encoding: "utf8", cwd: ROOT });
    const viaMerge = cli("merge", parts, "-o", join(dir, "merged"), "--seed", "3");
    assert.is(viaMerge.status, 0, viaMerge.stderr);
    const oneRun = cli("population", models, "-o", join(dir, "one"), "--seed", "3", "--workers", "1");
    assert.is(oneRun.status, 0, oneRun.stderr);
    const outputs = readdirSync(join(dir, "one")).sort();
    assert.equal(readdirSync(join(dir, "merged")).sort(), outputs);
    assert.ok(outputs.includes("failed.csv") && outputs.includes("networks.csv"));
    for (const name of outputs) assert.ok(readFileSync(join(dir, "merged", name), "utf8") === readFileSync(join(dir, "one", name), "utf8"), `${name}: merge of the Workers' partials against one process`);
  } finally {
    await mf.dispose();
    server.close();
  }
});

test.run();
