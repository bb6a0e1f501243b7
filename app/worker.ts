// One analysis at a time in a Web Worker: the page stays free while a model is read slice by
// slice from its Blob (never whole in memory) and measured by the wasm kernels.
import { analyze, filesSource, init, CntError } from "../src/index.js";
import { modelSection } from "../src/html/report-html.js";
import type { AppRequest, AppResponse } from "./messages.js";

const scope = globalThis as unknown as { onmessage: ((event: MessageEvent<AppRequest>) => void) | null; postMessage(message: AppResponse): void };
// The kernels sit beside this script in the app folder, whatever host serves it.
const ready = init(new URL("./cntscope.wasm", import.meta.url));

scope.onmessage = async ({ data: job }) => {
  let last = 0;
  try {
    await ready;
    const report = await analyze(filesSource(new Map(job.files), job.main), {
      name: job.main,
      fine: true,
      onProgress: (p) => {
        const now = performance.now();
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
