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
