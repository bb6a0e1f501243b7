// A Cloudflare Worker that analyzes one model into a population partial: the fan-out unit of
// `cntscope population` on serverless functions. Each request is one network; a driver
// (fan-out.mjs) sends many at once, writes the partials to a folder, and `cntscope merge`
// turns the folder into the population's outputs, the same as one machine's run.
//
//   GET  /partial?url=https://host/run-3.safetensors     the model fetched from a URL
//   GET  /partial?key=runs/run-3.safetensors             the model from the R2 bucket bound as MODELS
//   POST /partial?file=run-3.safetensors                 the model as the request body
//
// Other query parameters: file=NAME (the network's name in the population; default the URL's or
// key's last part), label.COLUMN=VALUE (its labels), and the analysis options bias, boundary,
// skip, bins as the CLI spells them (every network of a population must use the same ones).
// Answers: 200 with the partial as JSON, or 422 (a model that cannot be read) / 500 with
// {"failed": [{file, code, message}]}, which `cntscope merge` lists in failed.csv.
//
// "cntscope" resolves to the package's workerd entry (wrangler bundles with the "workerd"
// condition), which imports the kernels as a CompiledWasm module: no init() call.
import { analyze, toPartial, CntError } from "cntscope";

/** Models up to this size are read whole (two exact passes); larger ones are streamed in one pass. */
const WHOLE_BYTES = 64 << 20;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/partial") return Response.json({ error: "POST or GET /partial" }, { status: 404 });
    const file = url.searchParams.get("file") ?? defaultName(url);
    try {
      const { body, size } = await modelOf(request, url, env);
      // A model of up to WHOLE_BYTES is read whole: its 64-bin histograms are exact (two passes);
      // a longer one streams in one pass (those histograms rebinned, marked exact: false). The
      // moments and fine histograms that populations merge are exact either way.
      const input = await wholeIfSmall(body, size);
      const report = await analyze(input, { ...analysisOptions(url), fine: true, name: file, size: input instanceof Uint8Array ? input.byteLength : size });
      return Response.json(toPartial(report, file, labelsOf(url)));
    } catch (error) {
      const code = error instanceof CntError ? error.code : "INTERNAL";
      const message = error instanceof Error ? error.message : String(error);
      return Response.json({ failed: [{ file, code, message }] }, { status: code === "INTERNAL" ? 500 : 422 });
    }
  },
};

/** The model's bytes as a stream, and their count when known. */
async function modelOf(request, url, env) {
  if (request.method === "POST") return { body: request.body, size: numberOrUndefined(request.headers.get("content-length")) };
  const key = url.searchParams.get("key");
  if (key !== null) {
    if (!env.MODELS) throw new CntError("BAD_OPTION", "This Worker has no R2 bucket bound as MODELS (see wrangler.toml).");
    const object = await env.MODELS.get(key);
    if (object === null) throw new CntError("NOT_FOUND", `No object ${JSON.stringify(key)} in the MODELS bucket.`, { file: key });
    return { body: object.body, size: object.size };
  }
  const from = url.searchParams.get("url");
  if (from === null) throw new CntError("BAD_OPTION", "Give the model as ?url=..., ?key=... (R2) or a POST body.");
  const response = await fetch(from);
  if (!response.ok) throw new CntError(response.status === 404 ? "NOT_FOUND" : "FILE_SYSTEM", `Fetching ${JSON.stringify(from)} answered HTTP ${response.status}.`, { file: from });
  return { body: response.body, size: numberOrUndefined(response.headers.get("content-length")) };
}

/**
 * The body's bytes when it holds at most WHOLE_BYTES, else a stream of all of it. A body of
 * unknown length (chunked) is read up to the limit first, and streamed on from there if longer.
 */
async function wholeIfSmall(body, size) {
  if (size !== undefined && size > WHOLE_BYTES) return body;
  const reader = body.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.byteLength;
    if (length > WHOLE_BYTES) {
      // Longer than announced or than the limit: replay what was read, then the rest.
      return new ReadableStream({
        pull: async (controller) => {
          if (chunks.length > 0) return controller.enqueue(chunks.shift());
          const next = await reader.read();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        cancel: (reason) => reader.cancel(reason),
      });
    }
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** bias, boundary, skip and bins from the query, as the CLI spells them. */
function analysisOptions(url) {
  const options = {};
  for (const name of ["bias", "boundary", "skip"]) if (url.searchParams.has(name)) options[name] = url.searchParams.get(name);
  if (url.searchParams.has("bins")) options.bins = Number(url.searchParams.get("bins"));
  return options;
}

function labelsOf(url) {
  const labels = {};
  for (const [name, value] of url.searchParams) if (name.startsWith("label.")) labels[name.slice("label.".length)] = value;
  return labels;
}

/** The last part of the model's URL path or R2 key. */
function defaultName(url) {
  const from = url.searchParams.get("url");
  const key = url.searchParams.get("key");
  let path = key ?? "model";
  if (from !== null) {
    try {
      path = new URL(from).pathname;
    } catch {
      path = from;
    }
  }
  return path.split("/").filter(Boolean).at(-1) ?? path;
}

function numberOrUndefined(text) {
  const n = text === null ? NaN : Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
