/**
 * The same kernels in headless Chromium and in Node give bit-identical reports.
 *
 * Node analyses the fixtures through src/entry/node-core.ts (wasm read from dist/cntscope.wasm);
 * Chromium loads dist/index.js as plain ES modules from a loopback server (import map for
 * flatbuffers, wasm fetched as application/wasm) and analyses the same bytes. The reports'
 * JSON texts must be equal: JSON.stringify prints each double in its shortest round-trip form,
 * so equal text means equal doubles.
 *
 * If dist/ is missing or older than src/ or assembly/, `npm run build` runs first (at import,
 * before any suite can cache a stale wasm Module). Chromium is the system's when there is one,
 * else the build inside the @sparticuz/chromium dev dependency (CNTSCOPE_CHROMIUM=npm forces it;
 * see chooseChromium in harness.ts). If Chromium cannot launch, the test fails.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyze, toJSON } from "../../src/entry/node-core.js";
import { ROOT, STEP_MS, ensureBuilt, flatbuffersEsm, launchLoggedPage, startServer, withTimeout, type StaticServer } from "./harness.js";
import { SIMD_PROBE, pageHtml, type PageResults, type PageRun } from "./page.js";

const FIXTURE_PATHS = [
  "models/digits-mlp.safetensors",
  "test/fixtures/safetensors/mlp-f16.safetensors",
  "test/fixtures/safetensors/mlp-f64.safetensors",
  "test/fixtures/safetensors/mlp-nonfinite.safetensors",
];
const STREAM_FIXTURE = "digits-mlp.safetensors";

// Build now, at import: uvu imports every test file before running any, so no other suite has
// compiled the old dist/cntscope.wasm into the shared Module cache yet.
let build: { note?: string; error?: unknown };
try {
  build = { note: ensureBuilt() };
} catch (error) {
  build = { error };
}

interface Session {
  server: StaticServer;
  page: Page;
  results: PageResults;
}

let server: StaticServer | undefined;
let browser: Browser | undefined;
let chromiumNote = "Chromium not launched";
let session: Promise<Session> | undefined;
let nodeJson: Promise<Map<string, string>> | undefined;
const started = Date.now();

/** Start the server, launch Chromium, load the page and wait for its results (once). */
function openSession(): Promise<Session> {
  session ??= (async () => {
    if (build.error) throw build.error;
    const flatbuffers = flatbuffersEsm();
    const fixtures: Record<string, string> = {};
    const files: Record<string, string> = {};
    for (const path of FIXTURE_PATHS) {
      const name = basename(path);
      fixtures[name] = `/fixtures/${name}`;
      files[`/fixtures/${name}`] = join(ROOT, path);
    }
    server = await startServer({
      pages: { "/": pageHtml({ flatbuffersUrl: flatbuffers.url, fixtures, streamFixture: STREAM_FIXTURE }) },
      files,
      dirs: { "/dist/": join(ROOT, "dist"), "/node_modules/flatbuffers/": flatbuffers.dir },
    });

    const opened = await launchLoggedPage(server);
    browser = opened.browser;
    chromiumNote = opened.chromium;
    const { page, why } = opened;
    try {
      await page.goto(`${server.origin}/`, { waitUntil: "load", timeout: STEP_MS });
      await page.waitForFunction(() => (window as unknown as { __results?: unknown }).__results !== undefined, null, { timeout: STEP_MS });
    } catch (error) {
      throw new Error(`The page did not produce results: ${String(error)}${why()}`);
    }
    const results = await withTimeout(page.evaluate(() => (window as unknown as { __results: PageResults }).__results), "Reading the page's results");
    if (results.error) throw new Error(`The page script failed: ${results.error}${why()}`);
    return { server, page, results };
  })();
  return session;
}

/** The reference: the same fixtures analysed in Node. */
function nodeReports(): Promise<Map<string, string>> {
  nodeJson ??= withTimeout(
    (async () => {
      if (build.error) throw build.error;
      const out = new Map<string, string>();
      for (const path of FIXTURE_PATHS) {
        const name = basename(path);
        const bytes = readFileSync(join(ROOT, path));
        out.set(name, toJSON(await analyze(bytes, { perNode: true, name })));
      }
      return out;
    })(),
    "Analysing the fixtures in Node",
  );
  return nodeJson;
}

function pageRun(results: PageResults, name: string, input: PageRun["input"]): string {
  const run = results.runs.find((r) => r.name === name && r.input === input);
  assert.ok(run, `the page has no ${input} run of ${name}`);
  if (run.error !== undefined) assert.unreachable(`analyze(${input}) of ${name} failed in Chromium:\n${run.error}`);
  assert.type(run.json, "string");
  return run.json!;
}

test.after(async () => {
  // Always runs (uvu calls `after` in a finally): close whatever was opened, each bounded.
  await withTimeout(browser?.close() ?? Promise.resolve(), "Closing Chromium").catch((error) => console.error(String(error)));
  await withTimeout(server?.close() ?? Promise.resolve(), "Closing the HTTP server").catch((error) => console.error(String(error)));
  if (process.env.CNTSCOPE_TEST_VERBOSE) console.log(`\n  browser test: ${build.note ?? "build failed"}; ${chromiumNote}; ${Date.now() - started} ms`);
});

test("dist/ is built from the current sources", () => {
  if (build.error) throw build.error;
  assert.ok(build.note);
});

test("headless Chromium loads the core as ES modules and validates its wasm SIMD kernels", async () => {
  const { results, server: s } = await openSession();
  assert.ok(/Chrom/.test(results.userAgent), `not Chromium: ${results.userAgent}`);
  assert.ok(WebAssembly.validate(new Uint8Array(SIMD_PROBE)), "the SIMD probe module is not valid in Node either");
  assert.ok(results.simdProbe, "Chromium rejected a wasm module using SIMD instructions");
  assert.ok(results.kernelBytes > 0, "the page fetched an empty cntscope.wasm");
  assert.ok(results.kernelsValid, "Chromium rejected dist/cntscope.wasm");
  // The kernels really are SIMD code (the text form is written by the same asc build).
  assert.ok(readFileSync(join(ROOT, "dist", "cntscope.wat"), "utf8").includes("v128"), "dist/cntscope.wasm contains no v128 instructions");
  assert.ok(
    s.log.some((line) => line.startsWith("GET /dist/cntscope.wasm 200 application/wasm")),
    `the core never fetched dist/cntscope.wasm as application/wasm:\n  ${s.log.join("\n  ")}`,
  );
  assert.ok(s.log.some((line) => line.startsWith(`GET ${flatbuffersEsm().url} 200`)), "flatbuffers was not loaded through the import map");
  const bad = s.log.filter((line) => !/ 200 /.test(line) && !line.includes("/favicon.ico"));
  assert.equal(bad, [], "the page asked for files the server does not have");
});

test("every fixture gives bit-identical report JSON in Chromium and Node", async () => {
  const [{ results }, node] = await Promise.all([openSession(), nodeReports()]);
  for (const path of FIXTURE_PATHS) {
    const name = basename(path);
    const browserJson = pageRun(results, name, "bytes");
    const expected = node.get(name)!;
    assert.ok(expected.includes('"perNode"'), `${name}: the Node report has no per-node strengths`);
    assert.is(JSON.parse(expected).source.name, name);
    assert.is(browserJson, expected, `${name}: Chromium and Node reports differ`);
  }
});

test("a Blob input in Chromium gives the Node report", async () => {
  const [{ results }, node] = await Promise.all([openSession(), nodeReports()]);
  assert.is(pageRun(results, STREAM_FIXTURE, "blob"), node.get(STREAM_FIXTURE)!, "Blob report differs from Node's");
});

test("a ReadableStream input in Chromium gives the Node report, up to rebinned link-weight histogram counts", async () => {
  const [{ results }, node] = await Promise.all([openSession(), nodeReports()]);
  const stream = JSON.parse(pageRun(results, STREAM_FIXTURE, "stream"));
  const expected = JSON.parse(node.get(STREAM_FIXTURE)!);

  // A stream of unknown length has no byte size to report.
  assert.ok(stream.source.bytes === null || stream.source.bytes === expected.source.bytes, `source.bytes ${stream.source.bytes}`);
  stream.source.bytes = expected.source.bytes;

  if (stream.options.histogram === "rebinned") {
    // Only the link-weight and bias histograms are rebinned from a fine histogram: same edges,
    // same number of bins and the same total, but counts may move between neighbouring bins.
    assert.is(stream.layers.length, expected.layers.length);
    stream.layers.forEach((layer: Record<string, { histogram: { edges: number[] | null; counts: number[] } } | null>, i: number) => {
      for (const part of ["linkWeights", "bias"]) {
        const got = layer[part];
        const want = expected.layers[i][part];
        if (!got || !want) continue;
        const where = `layers[${i}].${part}.histogram`;
        assert.equal(got.histogram.edges, want.histogram.edges, `${where}.edges`);
        assert.is(got.histogram.counts.length, want.histogram.counts.length, `${where}.counts.length`);
        const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
        assert.is(sum(got.histogram.counts), sum(want.histogram.counts), `${where} total`);
        got.histogram = want.histogram;
      }
    });
    stream.options.histogram = expected.options.histogram;
  }
  // Everything else (moments, extrema, non-finite counts, strengths, their histograms, per-node
  // values, notes) must be bit-identical.
  assert.is(JSON.stringify(stream, null, 2), JSON.stringify(expected, null, 2), "stream report differs from Node's");
});

test.run();
