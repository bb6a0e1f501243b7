/**
 * The offline app in headless Chromium, used as a person would: files given to its pickers (a
 * folder for the multi-file TF.js model) and one dropped, progress, the tables and plots, a
 * comparison, and a 512 MiB model analyzed while the main thread's long tasks are recorded.
 * Numbers on the page are checked against the Node API's report of the same files; screenshots
 * go to test-output/app/.
 */
import { spawnSync } from "node:child_process";
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { chromium } from "playwright-core";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeFile } from "../../src/node/index.js";
import { analyze, inspect } from "../../src/index.js";
import { imageSamples, imageTarget, labelFromPath } from "../../src/forward/inputs/images.js";
import { readPng } from "../forward/_png.js";
import { serveApp } from "../../src/node/app-server.js";
import { ROOT, STEP_MS, chooseChromium, withTimeout } from "./harness.js";

const OUT = join(ROOT, "test-output", "app");
const MODEL = join(ROOT, "models", "digits-mlp.safetensors");
const HUMAN = join(ROOT, "node_modules", "@vladmandic", "human", "models");

/** dist/app is bundled from app/ and src/ (not from dist/): rebuilt when one of them is newer. */
function ensureApp(): void {
  const page = join(ROOT, "dist", "app", "page.js");
  const inputs = [...filesUnder(join(ROOT, "app")), ...filesUnder(join(ROOT, "src")), join(ROOT, "dist", "cntscope.wasm")];
  const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
  if (existsSync(page) && statSync(page).mtimeMs >= newest) return;
  const run = spawnSync("npm", ["run", "build:app"], { cwd: ROOT, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`npm run build:app failed:\n${run.stdout}\n${run.stderr}`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

let browser: Browser | undefined;
let page: Page;
let app: { url: string; close(): Promise<void> };
const log: string[] = [];

test.before(async () => {
  ensureApp();
  mkdirSync(OUT, { recursive: true });
  app = await serveApp({ dir: join(ROOT, "dist", "app") });
  const choice = await chooseChromium();
  browser = await withTimeout(chromium.launch({ executablePath: choice.executablePath, args: choice.args, timeout: STEP_MS }), "Launching Chromium");
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(STEP_MS);
  page.on("console", (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => log.push(`pageerror: ${e.message}`));
  page.on("request", (r) => log.push(`request: ${r.url()}`));
  // Long tasks of the main thread, from the first moment of the page.
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: number[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__longTasks.push(e.duration))).observe({ type: "longtask", buffered: true });
  });
  await page.goto(app.url);
});

test.after(async () => {
  await browser?.close();
  await app?.close();
});

const why = () => `\n${log.slice(-30).join("\n")}`;

async function waitDone(name: string): Promise<void> {
  const row = page.locator("#file-list li", { hasText: name });
  await row.locator(".status", { hasText: /weighted layers|[A-Z_]{4,}:/ }).waitFor({ timeout: 4 * STEP_MS });
  const status = await row.locator(".status").textContent();
  assert.match(status!, /weighted layers/, `${name}: ${status}${why()}`);
}

/** Every bar count of every link-weight plot in a rendered model section, by plot title. */
async function barsOnPage(section: string): Promise<Record<string, number[]>> {
  return page.evaluate((id) => {
    const out: Record<string, number[]> = {};
    for (const svg of Array.from(document.querySelectorAll(`#${id} svg`))) {
      const title = svg.querySelector("title")?.textContent ?? "";
      out[title] = Array.from(svg.querySelectorAll("rect.bar")).map((r) => Number(r.getAttribute("data-count")));
    }
    return out;
  }, section);
}

test("the bundled model through the file picker: the page's tables and plots hold the Node API's numbers", async () => {
  await page.setInputFiles("#pick-files", MODEL);
  await waitDone("digits-mlp.safetensors");
  const report = await analyzeFile(MODEL);
  const fluctuations = await page.$$eval("#nodes-0 tbody tr", (rows) => rows.map((r) => Number((r as HTMLTableRowElement).cells[4].dataset.sort)));
  assert.equal(fluctuations, report.nodeLayers.map((n) => n.fluctuation));
  const means = await page.$$eval("#layers-0 tbody tr", (rows) => rows.map((r) => Number((r as HTMLTableRowElement).cells[5].dataset.sort)));
  assert.equal(means, report.layers.map((l) => l.linkWeights!.mean));
  const bars = await barsOnPage("result-0");
  for (const l of report.layers) assert.equal(bars[`${l.name}: link weights`], l.linkWeights!.histogram.counts, `layer ${l.name}`);
  for (const n of report.nodeLayers) assert.equal(bars[`node layer ${n.index} (after ${n.after}, ${n.size} nodes): s`], n.strength.histogram.counts);
  // Sorting by fluctuation puts the rows in ascending order of it.
  await page.click("#nodes-0 th:nth-child(5)");
  const sorted = await page.$$eval("#nodes-0 tbody tr", (rows) => rows.map((r) => Number((r as HTMLTableRowElement).cells[4].dataset.sort)));
  assert.equal(sorted, [...sorted].sort((a, b) => a - b));
  await page.fill('input[data-table="layers-0"]', "dense-that-is-not-there");
  assert.is(await page.locator("#layers-0 tbody tr:visible").count(), 0);
  await page.fill('input[data-table="layers-0"]', "");
  await page.screenshot({ path: join(OUT, "bundled-model.png"), fullPage: true });
});

test("a multi-file TF.js graph model through the folder picker (model.json and its shard)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cntscope-app-tfjs-"));
  for (const f of ["blazeface.json", "blazeface.bin"]) copyFileSync(join(HUMAN, f), join(dir, f));
  await page.setInputFiles("#pick-folder", dir);
  const name = await page.locator("#file-list li .name", { hasText: "blazeface.json" }).textContent();
  await waitDone(name!);
  const report = await analyzeFile(join(dir, "blazeface.json"));
  const fluctuations = await page.$$eval("#nodes-1 tbody tr", (rows) => rows.map((r) => Number((r as HTMLTableRowElement).cells[4].dataset.sort)));
  assert.equal(fluctuations, report.nodeLayers.map((n) => n.fluctuation));
  const bars = await barsOnPage("result-1");
  for (const l of report.layers.filter((l) => l.linkWeights)) assert.equal(bars[`${l.name}: link weights`], l.linkWeights!.histogram.counts, `layer ${l.name}`);
  rmSync(dir, { recursive: true, force: true });
});

test("a file dropped on the page is analyzed, and two models compare with an overlay per matched layer", async () => {
  const bytes = [...readFileSync(MODEL)];
  await page.evaluate((data) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(data)], "dropped.safetensors"));
    document.getElementById("drop")!.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, bytes);
  await waitDone("dropped.safetensors");
  await page.check("#file-list li:has-text('digits-mlp.safetensors') input[type=checkbox]");
  await page.check("#file-list li:has-text('dropped.safetensors') input[type=checkbox]");
  await page.click("#compare");
  const overlays = await page.$$eval("#comparison-view svg", (svgs) => svgs.map((s) => s.querySelectorAll("path.series").length).filter((n) => n > 0));
  assert.is(overlays.length, 3 + 4, "three link-weight layers and four node layers");
  assert.ok(overlays.every((n) => n === 2));
  const js = await page.$$eval("#compare-linkWeights tbody tr", (rows) => rows.map((r) => Number((r as HTMLTableRowElement).cells[3].dataset.sort)));
  assert.equal(js, [0, 0, 0], "the same model twice");
  await page.screenshot({ path: join(OUT, "comparison.png") });
});

const LAYOUT = join(ROOT, "models", "digits-mlp.layout.json");
const DIGITS_IN = join(ROOT, "models", "digits-test-inputs.npy");
const DIGITS_LABELS = join(ROOT, "models", "digits-test-labels.npy");
const PNGS = join(ROOT, "test", "fixtures", "forward", "images");

/** The bundled model under another name (its row and section told apart from the others). */
function modelCopy(name: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "cntscope-app-data-")), name);
  copyFileSync(MODEL, path);
  return path;
}

/** Every status text a model row shows from now on (the forward pass's progress among them). */
async function recordStatuses(): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const w = window as unknown as { __statuses: string[] };
    w.__statuses = [];
    new MutationObserver(() => document.querySelectorAll("#file-list .status").forEach((s) => w.__statuses.push(s.textContent ?? ""))).observe(document.getElementById("file-list")!, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => (window as unknown as { __statuses: string[] }).__statuses);
}

/** The model section of a row: its summary's "data" line and the bar counts of its z and a plots. */
async function dataOnPage(name: string): Promise<{ summary: string; feed: string; plots: Record<string, number[]> }> {
  const row = page.locator("#file-list li", { hasText: name });
  const feed = (await row.locator(".feed").textContent()) ?? "";
  return page.evaluate(
    ({ name, feed }) => {
      const section = Array.from(document.querySelectorAll("#results section")).find((s) => s.querySelector("h2")?.textContent === name)!;
      const dts = Array.from(section.querySelectorAll("dl.summary dt"));
      const summary = dts.find((d) => d.textContent === "data")?.nextElementSibling?.textContent ?? "";
      const plots: Record<string, number[]> = {};
      for (const svg of Array.from(section.querySelectorAll("svg"))) {
        const title = svg.querySelector("title")?.textContent ?? "";
        if (/: [za]$/.test(title)) plots[title] = Array.from(svg.querySelectorAll("rect.bar")).map((r) => Number(r.getAttribute("data-count")));
      }
      return { summary, feed, plots };
    },
    { name, feed },
  );
}

test("data: the digits test set (.npy) with labels and the layout gives the model's accuracy 0.9778 and the Node API's z and a", async () => {
  const statuses = await recordStatuses();
  await page.setInputFiles("#pick-layout", LAYOUT);
  await page.setInputFiles("#pick-samples", DIGITS_IN);
  await page.setInputFiles("#pick-labels", DIGITS_LABELS);
  assert.is(await page.locator("#data-summary").textContent(), "samples from digits-test-inputs.npy; labels from digits-test-labels.npy; layout digits-mlp.layout.json.");
  const path = modelCopy("digits-with-data.safetensors");
  await page.setInputFiles("#pick-files", path);
  await waitDone("digits-with-data.safetensors");
  const shown = await dataOnPage("digits-with-data.safetensors");
  assert.is(shown.feed, "Data: 450 samples of [64] from digits-test-inputs.npy, labels from digits-test-labels.npy");
  // 440 of 450: the float64 forward pass of scripts/make_digits_inputs.py (the model's recorded test accuracy).
  assert.match(shown.summary, /^450 samples in batches of 64 .*accuracy 0\.97778 \(440 of 450\)$/, shown.summary);
  assert.match((await page.locator("#file-list li", { hasText: "digits-with-data.safetensors" }).locator(".status").textContent())!, /450 samples run, accuracy 0\.9778$/);
  assert.ok((await statuses()).some((s) => /^forward pass · \d+ of 450 samples$/.test(s)), "the forward pass's progress on the model's row");
  const report = await analyzeFile(path, { inputs: DIGITS_IN, labels: DIGITS_LABELS, layout: JSON.parse(readFileSync(LAYOUT, "utf8")) });
  const measured = report.nodeLayers.filter((n) => n.neuronStrength);
  assert.is(measured.length, 3, "z and a of the three node layers after the dense layers");
  assert.is(Object.keys(shown.plots).length, 2 * measured.length);
  for (const n of measured) {
    const title = Object.keys(shown.plots).find((t) => t.startsWith(`node layer ${n.index} `) && t.endsWith(": z"))!;
    assert.equal(shown.plots[title], n.neuronStrength!.histogram.counts, title);
    assert.equal(shown.plots[title.replace(/: z$/, ": a")], n.neuronActivation!.histogram.counts, title);
  }
  await page.locator("#results section", { hasText: "digits-with-data.safetensors" }).screenshot({ path: join(OUT, "data-npy.png") });
  rmSync(path, { force: true });
});

test("data: PNG digits labelled by file name, shaped 24x24 -> 8x8 grayscale, give the float64 reference's predictions", async () => {
  const digits = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "forward", "images-digits.json"), "utf8")) as { files: string[]; correct: number; layers: { after: string; z: number[]; a: number[] }[] };
  if (await page.locator("#data-clear").isVisible()) await page.click("#data-clear");
  await page.setInputFiles("#pick-layout", LAYOUT);
  await page.setInputFiles("#pick-samples", digits.files.map((f) => join(PNGS, f)));
  assert.is(await page.locator("#data-summary").textContent(), `${digits.files.length} images (shaped for each model as it says: the model's row shows what it is fed); labels from the image paths; layout digits-mlp.layout.json.`);
  const path = modelCopy("digits-with-pngs.safetensors");
  await page.setInputFiles("#pick-files", path);
  await waitDone("digits-with-pngs.safetensors");
  const shown = await dataOnPage("digits-with-pngs.safetensors");
  assert.is(shown.feed, `Data: ${digits.files.length} images as 8x8 grayscale, 0..1, labels from the file paths`);
  // make_images.py: the float64 forward pass of the 3x3 area averages of the PNGs' luma gets `correct` of them right (two wrong on purpose).
  const accuracy = (digits.correct / digits.files.length).toPrecision(5);
  assert.ok(shown.summary.endsWith(`accuracy ${accuracy} (${digits.correct} of ${digits.files.length})`), shown.summary);
  assert.is(Object.keys(shown.plots).length, 6);
  // The node-layer table's z and a columns against the same float64 forward pass.
  const table = await page.evaluate((name) => {
    const section = Array.from(document.querySelectorAll("#results section")).find((s) => s.querySelector("h2")?.textContent === name)!;
    const nodes = Array.from(section.querySelectorAll("table.data")).find((t) => t.id.startsWith("nodes-"))!;
    const heads = Array.from(nodes.querySelectorAll("thead th")).map((th) => th.textContent?.trim() ?? "");
    // (No named functions in here: the test's transform would wrap them in a helper the page lacks.)
    return Array.from(nodes.querySelectorAll("tbody tr")).map((r) => {
      const cells = (r as HTMLTableRowElement).cells;
      const [z, sz, a, sa] = ["mean z", "std z", "mean a", "std a"].map((h) => Number(cells[heads.indexOf(h)].dataset.sort));
      return { after: cells[heads.indexOf("written by")].textContent ?? "", z: [z, sz], a: [a, sa] };
    });
  }, "digits-with-pngs.safetensors");
  for (const ref of digits.layers) {
    const row = table.find((r) => r.after === ref.after)!;
    for (const [got, want] of [...row.z.map((v, i) => [v, ref.z[i]]), ...row.a.map((v, i) => [v, ref.a[i]])]) assert.ok(Math.abs(got - want) <= 1e-5 * Math.abs(want), `layer after ${ref.after}: ${got} vs ${want}`);
  }
  await page.screenshot({ path: join(OUT, "data-png.png"), fullPage: true });
  await page.click("#data-clear");
  rmSync(path, { force: true });
});

test("data: the PNG digits as RGB for ONNX conv nets, channels first (area 24 -> 8) and channels last, match the Node API on the same images", async () => {
  const digits = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "forward", "images-digits.json"), "utf8")) as { files: string[] };
  if (await page.locator("#data-clear").isVisible()) await page.click("#data-clear");
  await page.setInputFiles("#pick-samples", digits.files.map((f) => join(PNGS, f)));
  const cases = [
    ["res-block.onnx", "Data: 10 images as 8x8 RGB, channels first, 0..1, labels from the file paths"],
    ["nhwc-transpose.onnx", "Data: 10 images as 8x8 RGB, channels last, 0..1, labels from the file paths"],
  ];
  for (const [name, feed] of cases) {
    const path = join(ROOT, "test", "fixtures", "graph", "onnx", name);
    await page.setInputFiles("#pick-files", path);
    await waitDone(name);
    assert.is(await page.locator("#file-list li", { hasText: name }).locator(".feed").textContent(), feed);
    // The same images decoded in Node (test/forward/_png.ts) through src/forward/inputs/images.ts, which make_images.py checks in float64.
    const graph = (await inspect(readFileSync(path))).graph!;
    const samples = imageSamples(digits.files.length, async (i) => readPng(readFileSync(join(PNGS, digits.files[i]))), imageTarget(graph.inputs[0].shape.slice(1)));
    const report = await analyze(readFileSync(path), { inputs: samples, labels: digits.files.map((f) => labelFromPath(f)!) });
    const table = await page.evaluate((name) => {
      const section = Array.from(document.querySelectorAll("#results section")).find((s) => s.querySelector("h2")?.textContent === name)!;
      const nodes = Array.from(section.querySelectorAll("table.data")).find((t) => t.id.startsWith("nodes-"))!;
      const heads = Array.from(nodes.querySelectorAll("thead th")).map((th) => th.textContent?.trim() ?? "");
      return Array.from(nodes.querySelectorAll("tbody tr")).map((r) => ["mean z", "std z", "mean a", "std a"].map((h) => (r as HTMLTableRowElement).cells[heads.indexOf(h)].dataset.sort ?? ""));
    }, name);
    const measured = report.nodeLayers.filter((n) => n.neuronStrength);
    assert.ok(measured.length >= 2, `${name}: z and a measured in Node`);
    // The same kernels on the same f32 samples; the last float64 digit may differ (the order of the statistics' merges).
    assert.is(table.length, report.nodeLayers.length);
    report.nodeLayers.forEach((n, i) => {
      const want = n.neuronStrength ? [n.neuronStrength.mean, n.neuronStrength.std, n.neuronActivation!.mean, n.neuronActivation!.std] : undefined;
      if (!want) return assert.equal(table[i], ["", "", "", ""], `${name} node layer ${i}: no z and a`);
      want.forEach((w, k) => assert.ok(Math.abs(Number(table[i][k]) - w) <= 1e-9 * Math.max(1e-6, Math.abs(w)), `${name} node layer ${i} column ${k}: ${table[i][k]} vs ${w}`));
    });
  }
  await page.click("#data-clear");
});

test("data: images decoded by the page for a worker that cannot (?decode=page) give the same accuracy", async () => {
  const digits = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "forward", "images-digits.json"), "utf8")) as { files: string[]; correct: number };
  const other = await browser!.newPage();
  other.setDefaultTimeout(STEP_MS);
  try {
    await other.goto(`${app.url}?decode=page`);
    await other.setInputFiles("#pick-layout", LAYOUT);
    await other.setInputFiles("#pick-samples", digits.files.map((f) => join(PNGS, f)));
    await other.setInputFiles("#pick-files", MODEL);
    const status = other.locator("#file-list li .status");
    await status.filter({ hasText: /weighted layers|[A-Z_]{4,}:/ }).waitFor({ timeout: 4 * STEP_MS });
    const text = (await status.textContent())!;
    assert.ok(text.endsWith(`${digits.files.length} samples run, accuracy ${(digits.correct / digits.files.length).toFixed(4)}`), text);
  } finally {
    await other.close();
  }
});

test("a 512 MiB model: the page stays responsive while a worker reads it slice by slice", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "cntscope-app-big-")), "big.safetensors");
  writeBigModel(path, 8, 4096 * 4096);
  await page.evaluate(() => ((window as unknown as { __longTasks: number[] }).__longTasks.length = 0));
  const started = Date.now();
  await page.setInputFiles("#pick-files", path);
  await waitDone("big.safetensors");
  const seconds = (Date.now() - started) / 1000;
  const longest = await page.evaluate(() => Math.max(0, ...(window as unknown as { __longTasks: number[] }).__longTasks));
  // Measured, not asserted (timing on a shared machine): the goal is under 100 ms.
  console.log(`  app: 512 MiB analyzed in ${seconds.toFixed(1)} s; the main thread's longest task ${longest.toFixed(0)} ms`);
  const requests = log.filter((l) => l.startsWith("request:") && !l.includes("127.0.0.1"));
  assert.equal(requests, [], "nothing fetched from anywhere but the app's own server");
  await page.screenshot({ path: join(OUT, "big-model.png") });
  rmSync(path, { force: true });
});

/** A safetensors file of `tensors` f32 tensors of `n` values each, written block by block. */
function writeBigModel(path: string, tensors: number, n: number): void {
  const header: Record<string, unknown> = {};
  for (let t = 0; t < tensors; t++) header[`layers.${t}.weight`] = { dtype: "F32", shape: [4096, n / 4096], data_offsets: [t * n * 4, (t + 1) * n * 4] };
  let text = JSON.stringify(header);
  text += " ".repeat((8 - (text.length % 8)) % 8);
  const fd = openSync(path, "w");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  writeSync(fd, length);
  writeSync(fd, text);
  const block = new Float32Array(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = Math.sin(i * 0.001) * 0.05;
  for (let written = 0; written < tensors * n; written += block.length) writeSync(fd, new Uint8Array(block.buffer));
  closeSync(fd);
}

test.run();
