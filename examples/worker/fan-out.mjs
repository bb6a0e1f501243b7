#!/usr/bin/env node
// Fan a population out to the Worker (src/index.js): one request per model, many at once, each
// partial written to a folder that `cntscope merge` reads.
//
//   node fan-out.mjs --worker https://cntscope-partial.ACCOUNT.workers.dev --out parts \
//     runs/*.safetensors                      # local files, POSTed
//     https://host/run-3.safetensors          # URLs, fetched by the Worker
//     r2:runs/run-3.safetensors               # keys of the Worker's R2 bucket
//   npx cntscope merge parts -o out --labels labels.csv
//
// Options: --concurrency N (requests in flight, default 16), --bias/--boundary/--skip/--bins
// (passed to every analysis). Each partial is parts/<file>.json; a model that fails gives
// parts/<file>.failed.json ({"failed": [...]}), which merge lists in failed.csv.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Send every model to the Worker and write the answers into `out`. `send(url, init)` is fetch
 * by default; a test hands in its own (a local workerd).
 * @returns how many partials and failures were written.
 */
export async function fanOut({ worker, models, out, concurrency = 16, options = {}, send = fetch }) {
  await mkdir(out, { recursive: true });
  let next = 0;
  let partials = 0;
  let failures = 0;
  const one = async (model) => {
    const query = new URLSearchParams(options);
    let init = { method: "GET" };
    if (/^https?:\/\//.test(model)) query.set("url", model);
    else if (model.startsWith("r2:")) query.set("key", model.slice(3));
    else {
      query.set("file", basename(model));
      init = { method: "POST", body: new Uint8Array(await readFile(model)) };
    }
    const response = await send(`${worker.replace(/\/$/, "")}/partial?${query}`, init);
    const text = await response.text();
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = { failed: [{ file: model, code: "INTERNAL", message: `The Worker answered HTTP ${response.status}: ${text.slice(0, 200)}` }] };
    }
    const failed = !response.ok || answer.failed !== undefined;
    const file = failed ? answer.failed?.[0]?.file ?? model : answer.file;
    await writeFile(join(out, `${encodeURIComponent(file)}${failed ? ".failed" : ""}.json`), JSON.stringify(answer));
    if (failed) failures++;
    else partials++;
  };
  const lane = async () => {
    while (next < models.length) await one(models[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, models.length)) }, lane));
  return { partials, failures };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const flags = {};
  const models = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith("--")) flags[args[i].slice(2)] = args[++i];
    else models.push(args[i]);
  }
  if (!flags.worker || !flags.out || models.length === 0) {
    console.error("usage: node fan-out.mjs --worker URL --out DIR [--concurrency N] [--bias in|ignore] [--bins N] MODEL...");
    process.exit(2);
  }
  const options = Object.fromEntries(["bias", "boundary", "skip", "bins"].filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]));
  const { partials, failures } = await fanOut({ worker: flags.worker, models, out: flags.out, concurrency: Number(flags.concurrency ?? 16), options });
  console.error(`wrote ${partials} partials and ${failures} failures to ${flags.out}`);
}
