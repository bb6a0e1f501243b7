// The offline app: files dropped on the page are grouped into models, analyzed in a pool of Web
// Workers (both cores and more), and shown as the HTML report shows them; several can be
// compared, and every report exported as HTML, JSON or CSV. Nothing is sent anywhere.
import { compare } from "../src/compare/compare.js";
import { toJSON } from "../src/report/json.js";
import type { Report } from "../src/report/types.js";
import { modelFiles, type FolderFile } from "../src/formats/model-files.js";
import { comparisonSection, reportHtml } from "../src/html/report-html.js";
import { STYLE } from "../src/html/page.js";
import { wireTables } from "../src/html/tables-script.js";
import { reportCsv } from "../src/report/tables.js";
import { IMAGENET } from "../src/forward/inputs/images.js";
import type { Layout } from "../src/graph/layout.js";
import type { AppRequest, AppResponse, DataRequest, DecodeReply } from "./messages.js";

const APP_STYLE = `
.drop{border:2px dashed #8aa;border-radius:8px;padding:28px;text-align:center;color:#444;margin:12px 0}
.drop.over{background:#eef6ff;border-color:#4a7ab5}.pick{color:#245;text-decoration:underline;cursor:pointer}
#file-list{list-style:none;padding:0}#file-list li{display:grid;grid-template-columns:1.4em minmax(12em,2fr) 10em 3fr auto;gap:8px;align-items:center;padding:3px 0;border-bottom:1px solid #eee}
#file-list progress{width:10em}.status{color:#555;font-size:.9em}.status.error{color:#b00}
.exports button{margin-left:4px}#file-list li .feed{grid-column:2/-1;color:#555;font-size:.9em}
#data{border:1px solid #dde;border-radius:8px;padding:8px 14px;margin:12px 0}#data h2{margin:.2em 0}.hint,#data small{color:#555}
.data-grid{display:grid;grid-template-columns:8em 1fr;gap:6px 10px;align-items:baseline}.data-grid small{display:block}
#data-summary{font-weight:600}#data-summary.error{color:#b00}`;

interface Entry {
  id: number;
  main: string;
  files: Map<string, Blob>;
  row: HTMLLIElement;
  report?: Report;
}

/** The samples chosen in "Data (optional)": every model queued afterwards runs on them. */
const data: { samples: [string, Blob][]; kind?: "images" | "arrays"; labels?: [string, Blob]; layout?: Layout; layoutName?: string } = { samples: [] };

const entries: Entry[] = [];
const queue: AppRequest[] = [];
const workers: { worker: Worker; busy: boolean }[] = [];
const poolSize = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
let nextId = 0;

document.head.append(Object.assign(document.createElement("style"), { textContent: STYLE + APP_STYLE }));
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function pool(): { worker: Worker; busy: boolean } | undefined {
  let free = workers.find((w) => !w.busy);
  if (!free && workers.length < poolSize) {
    const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    free = { worker, busy: false };
    const slot = free;
    worker.onmessage = (event: MessageEvent<AppResponse>) => {
      const message = event.data;
      if (message.type === "decode") {
        void decodeFor(worker, message.request, message.blob);
        return;
      }
      if (message.type !== "progress" && message.type !== "data") {
        slot.busy = false;
        pump();
      }
      onMessage(message);
    };
    workers.push(free);
  }
  return free;
}

function pump(): void {
  while (queue.length) {
    const slot = pool();
    if (!slot) return;
    slot.busy = true;
    const job = queue.shift()!;
    entryOf(job.id).row.querySelector(".status")!.textContent = "reading";
    slot.worker.postMessage(job);
  }
}

function entryOf(id: number): Entry {
  return entries.find((e) => e.id === id)!;
}

function onMessage(message: Exclude<AppResponse, { type: "decode" }>): void {
  const entry = entryOf(message.id);
  const status = entry.row.querySelector<HTMLElement>(".status")!;
  const bar = entry.row.querySelector("progress")!;
  if (message.type === "data") {
    entry.row.querySelector<HTMLElement>(".feed")!.textContent = `Data: ${message.feed}`;
    return;
  }
  if (message.type === "progress") {
    bar.max = message.total || 1;
    bar.value = message.done;
    status.textContent = message.pass === "forward" ? `forward pass · ${message.tensor}` : `${Math.round((100 * message.done) / (message.total || 1))}% · ${message.tensor}`;
    return;
  }
  if (message.type === "error") {
    status.textContent = `${message.code}: ${message.message}`;
    status.classList.add("error");
    bar.value = 0;
    return;
  }
  entry.report = message.report;
  bar.max = 1;
  bar.value = 1;
  const r = message.report;
  const accuracy = r.data?.accuracy;
  status.textContent = `${r.layers.filter((l) => l.kind !== "none").length} weighted layers, ${r.nodeLayers.length} node layers${r.data ? `; ${r.data.samples} samples run` : ""}${typeof accuracy === "number" ? `, accuracy ${accuracy.toFixed(4)}` : ""}`;
  entry.row.querySelector<HTMLInputElement>("input[type=checkbox]")!.disabled = false;
  entry.row.querySelector<HTMLElement>(".exports")!.hidden = false;
  const section = document.createElement("div");
  section.id = `result-${entry.id}`;
  section.innerHTML = message.html;
  $("results").append(section);
  wireTables(section);
  $("compare-bar").hidden = entries.filter((e) => e.report).length < 1;
}

/** Queue every model among the dropped files; the others are their siblings (shards, external data). */
async function addFiles(files: Map<string, Blob>): Promise<void> {
  const folder: FolderFile[] = [...files].map(([name, blob]) => ({ name, size: blob.size, read: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()) }));
  const mains = await modelFiles(folder);
  if (mains.length === 0) {
    addRow(`${files.size} file${files.size === 1 ? "" : "s"}`, files).row.querySelector(".status")!.textContent = "no model file cntscope reads among these";
    return;
  }
  for (const main of mains) {
    const entry = addRow(main, files);
    queue.push({ id: entry.id, main, files: [...files], data: dataRequest() });
  }
  $("files").querySelector("h2")!.hidden = false;
  pump();
}

function addRow(main: string, files: Map<string, Blob>): Entry {
  const id = nextId++;
  const row = document.createElement("li");
  row.innerHTML = `<input type="checkbox" disabled aria-label="select for comparison"><span class="name"></span><progress max="1" value="0"></progress><span class="status">waiting</span><span class="exports" hidden><button data-format="html">HTML</button><button data-format="json">JSON</button><button data-format="csv">CSV</button></span><span class="feed"></span>`;
  row.querySelector(".name")!.textContent = main;
  row.querySelector(".exports")!.addEventListener("click", (event) => {
    const format = (event.target as HTMLElement).dataset.format;
    const report = entryOf(id).report;
    if (!format || !report) return;
    const base = main.replace(/^.*\//, "").replace(/\.[^.]+$/, "");
    if (format === "html") download(`${base}.report.html`, reportHtml([report]), "text/html");
    else if (format === "json") download(`${base}.report.json`, toJSON(report), "application/json");
    else download(`${base}.report.csv`, reportCsv(report), "text/csv");
  });
  $("file-list").append(row);
  const entry: Entry = { id, main, files, row };
  entries.push(entry);
  return entry;
}

function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function selectedReports(): Report[] {
  const chosen = entries.filter((e) => e.report && e.row.querySelector<HTMLInputElement>("input[type=checkbox]")!.checked);
  return (chosen.length >= 2 ? chosen : entries.filter((e) => e.report)).map((e) => e.report!);
}

$("compare").addEventListener("click", () => {
  const reports = selectedReports();
  const old = document.getElementById("comparison-view");
  old?.remove();
  const view = document.createElement("div");
  view.id = "comparison-view";
  if (reports.length < 2) {
    view.textContent = "Analyze two or more models to compare them.";
  } else {
    view.innerHTML = comparisonSection(reports, [compare(reports, { metric: "linkWeights" }), compare(reports, { metric: "strength" })]);
    wireTables(view);
  }
  $("results").prepend(view);
  view.scrollIntoView();
});

$("export-all").addEventListener("click", () => {
  const reports = selectedReports();
  const comparisons = reports.length >= 2 ? [compare(reports, { metric: "linkWeights" }), compare(reports, { metric: "strength" })] : [];
  download("cntscope-report.html", reportHtml(reports, { comparisons }), "text/html");
});

const IMAGE = /\.(png|jpe?g|webp)$/i;
const ARRAYS = /\.(npy|npz)$/i;

/** The data for a model queued now, or undefined when none is chosen. */
function dataRequest(): DataRequest | undefined {
  if (!data.kind) return undefined;
  const [lo, hi] = $<HTMLSelectElement>("image-range").value.split(",").map(Number) as [number, number];
  return {
    kind: data.kind,
    samples: data.samples,
    labels: data.labels,
    labelsFromPaths: $<HTMLInputElement>("labels-from-paths").checked,
    layout: data.layout,
    image: { range: [lo, hi], ...($<HTMLInputElement>("image-imagenet").checked ? { normalize: IMAGENET } : {}) },
    decodeInPage: new URLSearchParams(location.search).get("decode") === "page",
  };
}

/** Decode an image for a worker that cannot: its RGBA pixels as stored (no colour conversion, alpha not premultiplied). */
async function decodeFor(worker: Worker, request: number, blob: Blob): Promise<void> {
  try {
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
    const canvas = Object.assign(document.createElement("canvas"), { width: bitmap.width, height: bitmap.height });
    const context = canvas.getContext("2d", { willReadFrequently: true })!;
    context.drawImage(bitmap, 0, 0);
    bitmap.close();
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    const reply: DecodeReply = { type: "decoded", request, width: image.width, height: image.height, data: image.data };
    worker.postMessage(reply, [image.data.buffer]);
  } catch (error) {
    const reply: DecodeReply = { type: "decoded", request, error: `An image could not be decoded: ${(error as Error).message}` };
    worker.postMessage(reply);
  }
}

function showData(error?: string): void {
  const summary = $("data-summary");
  summary.classList.toggle("error", error !== undefined);
  const parts: string[] = [];
  if (data.kind === "images") parts.push(`${data.samples.length} image${data.samples.length === 1 ? "" : "s"} (shaped for each model as it says: the model's row shows what it is fed)`);
  if (data.kind === "arrays") parts.push(`samples from ${data.samples[0][0]}`);
  if (data.labels) parts.push(`labels from ${data.labels[0]}`);
  else if (data.kind === "images" && $<HTMLInputElement>("labels-from-paths").checked) parts.push("labels from the image paths");
  if (data.layoutName) parts.push(`layout ${data.layoutName}`);
  summary.textContent = error ?? (parts.length ? `${parts.join("; ")}.` : "No data: models are measured from their weights alone.");
  $("data-clear").hidden = parts.length === 0;
}

function chooseSamples(files: File[]): void {
  const arrays = files.filter((f) => ARRAYS.test(f.name));
  const images = files.filter((f) => IMAGE.test(f.name));
  if (arrays.length > 1 || (arrays.length === 1 && images.length > 0)) return showData("Choose one .npy or .npz of samples, or images, not both.");
  if (arrays.length === 0 && images.length === 0) return showData(`None of ${files.length} file(s) is an image (png, jpg, webp) or a .npy/.npz.`);
  const path = (f: File) => f.webkitRelativePath || f.name;
  data.kind = arrays.length ? "arrays" : "images";
  data.samples = (arrays.length ? arrays : images).map((f) => [path(f), f] as [string, Blob]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  showData();
}

for (const id of ["pick-samples", "pick-samples-folder"]) {
  $<HTMLInputElement>(id).addEventListener("change", (event) => {
    const input = event.target as HTMLInputElement;
    chooseSamples(Array.from(input.files ?? []));
    input.value = "";
  });
}
$<HTMLInputElement>("pick-labels").addEventListener("change", (event) => {
  const input = event.target as HTMLInputElement;
  const file = input.files?.[0];
  if (file) data.labels = [file.name, file];
  input.value = "";
  showData();
});
$<HTMLInputElement>("pick-layout").addEventListener("change", async (event) => {
  const input = event.target as HTMLInputElement;
  const file = input.files?.[0];
  input.value = "";
  if (!file) return;
  try {
    const layout = JSON.parse(await file.text()) as Layout;
    if (typeof layout !== "object" || layout === null || Array.isArray(layout)) throw new Error("it is not a JSON object");
    data.layout = layout;
    data.layoutName = file.name;
    showData();
  } catch (error) {
    showData(`Layout ${file.name}: ${(error as Error).message}`);
  }
});
$("labels-from-paths").addEventListener("change", () => showData());
$("data-clear").addEventListener("click", () => {
  data.samples = [];
  data.kind = data.labels = data.layout = data.layoutName = undefined;
  showData();
});

// Files come from the two pickers or a drop (files, or folders read through their entries).
for (const id of ["pick-files", "pick-folder"]) {
  $<HTMLInputElement>(id).addEventListener("change", (event) => {
    const input = event.target as HTMLInputElement;
    const files = new Map<string, Blob>();
    for (const f of Array.from(input.files ?? [])) files.set(f.webkitRelativePath || f.name, f);
    input.value = "";
    void addFiles(files);
  });
}

const drop = $("drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const items = Array.from(event.dataTransfer?.items ?? []);
  const roots = items.map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (roots.length === 0) {
    const files = new Map<string, Blob>();
    for (const f of Array.from(event.dataTransfer?.files ?? [])) files.set(f.name, f);
    void addFiles(files);
    return;
  }
  void Promise.all(roots.map((root) => readEntry(root, ""))).then((lists) => addFiles(new Map(lists.flat())));
});

async function readEntry(entry: FileSystemEntry, prefix: string): Promise<[string, Blob][]> {
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
    return [[prefix + entry.name, file]];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  // readEntries gives the folder's entries in batches until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  const lists = await Promise.all(children.map((child) => readEntry(child, `${prefix}${entry.name}/`)));
  return lists.flat();
}
