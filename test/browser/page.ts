/**
 * The test page: plain HTML, an import map for the one bare import (flatbuffers) and a module
 * script that imports /dist/index.js as a browser would, with no bundler. It analyses every
 * fixture (fetched from the test server as bytes), then one fixture again as a Blob and as a
 * ReadableStream, and leaves everything in `window.__results` for the test to read.
 */

export interface PageRun {
  name: string;
  input: "bytes" | "blob" | "stream";
  json?: string;
  error?: string;
  ms: number;
}

export interface PageResults {
  userAgent: string;
  /** WebAssembly.validate of a minimal module using SIMD (v128) instructions. */
  simdProbe: boolean;
  /** WebAssembly.validate of /dist/cntscope.wasm as fetched by the page. */
  kernelsValid: boolean;
  kernelBytes: number;
  runs: PageRun[];
  /** Set when the page script itself failed (import, fetch). */
  error?: string;
}

/** (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt): valid only where SIMD is enabled. */
export const SIMD_PROBE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11];

export function pageHtml(options: { flatbuffersUrl: string; fixtures: Record<string, string>; streamFixture: string }): string {
  const importMap = JSON.stringify({ imports: { flatbuffers: options.flatbuffersUrl } });
  const config = JSON.stringify({ fixtures: options.fixtures, streamFixture: options.streamFixture, simdProbe: SIMD_PROBE });
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>cntscope in Chromium</title>
<script type="importmap">${importMap}</script>
</head>
<body>
<script type="module">
const config = ${config};
const results = { userAgent: navigator.userAgent, simdProbe: false, kernelsValid: false, kernelBytes: 0, runs: [] };
try {
  results.simdProbe = WebAssembly.validate(new Uint8Array(config.simdProbe));
  const kernels = new Uint8Array(await (await fetch("/dist/cntscope.wasm")).arrayBuffer());
  results.kernelBytes = kernels.byteLength;
  results.kernelsValid = WebAssembly.validate(kernels);

  const { analyze, toJSON } = await import("/dist/index.js");
  const fetchBytes = async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error("HTTP " + response.status + " for " + url);
    return new Uint8Array(await response.arrayBuffer());
  };
  const run = async (name, input, make) => {
    const started = performance.now();
    try {
      const report = await analyze(await make(), { perNode: true, name });
      results.runs.push({ name, input, json: toJSON(report), ms: performance.now() - started });
    } catch (error) {
      results.runs.push({ name, input, error: String(error && error.stack || error), ms: performance.now() - started });
    }
  };

  for (const [name, url] of Object.entries(config.fixtures)) {
    await run(name, "bytes", () => fetchBytes(url));
  }
  const streamUrl = config.fixtures[config.streamFixture];
  await run(config.streamFixture, "blob", async () => new Blob([await fetchBytes(streamUrl)]));
  await run(config.streamFixture, "stream", async () => new Response(await fetchBytes(streamUrl)).body);
} catch (error) {
  results.error = String(error && error.stack || error);
}
window.__results = results;
</script>
</body>
</html>
`;
}
