// One analysis at a time in a Web Worker: the page stays free while a model is read slice by
// slice from its Blob (never whole in memory) and measured by the wasm kernels. With data, the
// model then runs forward on the samples, a batch at a time (images decoded as a batch asks).
import { analyze, filesSource, init, inspect, CntError } from "../src/index.js";
import { modelSection } from "../src/html/report-html.js";
import { applyLayout } from "../src/graph/layout.js";
import { buildGraph } from "../src/graph/build.js";
import { normalizeModel } from "../src/graph/normalize.js";
import { formatShape } from "../src/errors.js";
import { arrayLabels } from "../src/forward/inputs/arrays.js";
import { describeTarget, imageSamples, imageTarget, labelFromPath, type DecodedImage } from "../src/forward/inputs/images.js";
import { fileLabels, npySamples } from "../src/forward/inputs/npy.js";
import { npzSamples } from "../src/forward/inputs/npz.js";
import type { LabelSource, SampleSource } from "../src/forward/inputs/types.js";
import { blobSource } from "../src/source/blob.js";
import type { AppRequest, AppResponse, DecodeReply } from "./messages.js";

const scope = globalThis as unknown as { onmessage: ((event: MessageEvent<AppRequest | DecodeReply>) => void) | null; postMessage(message: AppResponse): void };
// The kernels sit beside this script in the app folder, whatever host serves it.
const ready = init(new URL("./cntscope.wasm", import.meta.url));

/** Images the page is decoding for this worker, by request number. */
const decoding = new Map<number, { ok: (image: DecodedImage) => void; fail: (error: Error) => void }>();
let requests = 0;

scope.onmessage = async ({ data: message }) => {
  if ("type" in message) {
    const pending = decoding.get(message.request);
    decoding.delete(message.request);
    if ("error" in message) pending?.fail(new CntError("BAD_OPTION", message.error));
    else pending?.ok(message);
    return;
  }
  const job = message;
  let last = 0;
  try {
    await ready;
    const data = job.data ? await openData(job) : undefined;
    if (data) scope.postMessage({ id: job.id, type: "data", feed: data.feed });
    const report = await analyze(filesSource(new Map(job.files), job.main), {
      name: job.main,
      fine: true,
      ...(data ? { inputs: data.samples, labels: data.labels, layout: job.data!.layout } : {}),
      onProgress: (p) => {
        const now = performance.now();
        if (p.pass === "forward" && p.samples) {
          if (now - last < 100 && p.samples.done < p.samples.total) return;
          last = now;
          scope.postMessage({ id: job.id, type: "progress", done: p.samples.done, total: p.samples.total, tensor: `${p.samples.done} of ${p.samples.total} samples`, pass: "forward" });
          return;
        }
        if (now - last < 100 && p.bytesDone < p.bytesTotal) return;
        last = now;
        scope.postMessage({ id: job.id, type: "progress", done: p.bytesDone, total: p.bytesTotal, tensor: p.tensor });
      },
    });
    // The page's HTML is made here too, so the main thread only inserts it.
    scope.postMessage({ id: job.id, type: "done", report, html: modelSection(report, job.id, false) });
  } catch (error) {
    const code = error instanceof CntError ? error.code : "INTERNAL";
    scope.postMessage({ id: job.id, type: "error", code, message: error instanceof Error ? error.message : String(error) });
  }
};

/**
 * The samples and labels of a job, shaped for its model: one sample's shape is the model's
 * (the graph input's, or a chain's first layer's), read from its description alone.
 */
async function openData(job: AppRequest): Promise<{ samples: SampleSource; labels?: LabelSource; feed: string }> {
  const data = job.data!;
  let samples: SampleSource;
  let feed: string;
  if (data.kind === "arrays") {
    const [name, blob] = data.samples[0];
    const source = blobSource(blob, name);
    samples = name.toLowerCase().endsWith(".npz") ? await npzSamples(source) : await npySamples(source);
    feed = `${samples.count} samples of ${samples.inputs.map((i) => `${formatShape(i.sampleShape)}${samples.inputs.length > 1 ? ` (${i.name})` : ""}`).join(", ")} from ${name}`;
  } else {
    const model = await inspect(filesSource(new Map(job.files), job.main), { name: job.main });
    const graph = buildGraph(normalizeModel(data.layout ? applyLayout(model, data.layout) : model));
    const input = graph.inputs.find((n) => graph.values.get(n)?.kind === "data");
    const declared = input === undefined ? undefined : graph.values.get(input)?.shape;
    if (!declared) throw new CntError("BAD_OPTION", `'${job.main}' does not say the shape of its input, so images cannot be shaped for it: give it in the layout ("inputShape": [3, 224, 224], one sample) or give the samples as a .npy.`);
    // Where this worker cannot decode (no OffscreenCanvas), the page does, one image at a time.
    const inPage = data.decodeInPage || typeof OffscreenCanvas === "undefined" || typeof createImageBitmap === "undefined";
    const decode = inPage ? (blob: Blob) => decodeInPage(job.id, blob) : decodeHere;
    const sample = graph.batched ? declared.slice(1) : declared;
    const first = sample.some((d) => d === null) ? await decode(data.samples[0][1]) : undefined;
    const target = imageTarget(sample, data.image, graph.dataFormat, first);
    samples = imageSamples(data.samples.length, (i) => decode(data.samples[i][1]), target, data.image, input!);
    feed = `${data.samples.length} image${data.samples.length === 1 ? "" : "s"} as ${describeTarget(target, data.image)}`;
  }
  let labels: LabelSource | undefined;
  if (data.labels) {
    labels = await fileLabels(blobSource(data.labels[1], data.labels[0]));
    feed += `, labels from ${data.labels[0]}`;
  } else if (data.kind === "images" && data.labelsFromPaths) {
    const list = data.samples.map(([path]) => labelFromPath(path));
    const missing = data.samples.filter((_, i) => list[i] === undefined).map(([path]) => path);
    if (missing.length === list.length) return { samples, feed: `${feed}, no labels (no class in the file paths)` };
    if (missing.length > 0) throw new CntError("BAD_OPTION", `No label in the path of ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ` and ${missing.length - 3} more` : ""}: put each image in a folder named by its class (3/a.png) or start its name with it (3_a.png).`);
    labels = arrayLabels(list as number[]);
    feed += ", labels from the file paths";
  }
  return { samples, labels, feed };
}

/** RGBA pixels of an image file, as they are stored (no colour-space conversion, alpha not premultiplied). */
async function decodeHere(blob: Blob): Promise<DecodedImage> {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext("2d", { willReadFrequently: true })!;
    context.drawImage(bitmap, 0, 0);
    const image = context.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width: image.width, height: image.height, data: image.data };
  } finally {
    bitmap.close();
  }
}

/** An image decoded by the page, for a worker that cannot. */
function decodeInPage(id: number, blob: Blob): Promise<DecodedImage> {
  const request = requests++;
  return new Promise((ok, fail) => {
    decoding.set(request, { ok, fail });
    scope.postMessage({ id, type: "decode", request, blob });
  });
}
