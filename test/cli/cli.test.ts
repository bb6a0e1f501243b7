// The command line as a user runs it: the built CLI in a child process.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { assertMatchesExpected, type ExpectedReport } from "../helpers/expected-report.js";

function cntscope(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const model = "models/digits-mlp.safetensors";
const tmp = mkdtempSync(join(tmpdir(), "cntscope-cli-"));

test("analyze prints a table of layers and node layers", () => {
  const r = cntscope("analyze", model);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Layers \(link weights\)/);
  assert.match(r.stdout, /Node layers/);
  assert.match(r.stdout, /fluctuation/);
  assert.is(r.stdout.split("\n").filter((l) => /^\d+\s+\d+\s+dense/.test(l)).length, 3);
  assert.match(r.stdout, /\nfluctuation: the standard deviation of s over the layer's nodes \(ddof 0\); cv: fluctuation \/ \|mean s\|/, "a legend");
  assert.match(r.stdout, /Input nodes have s_in = 1 and output nodes s_out = 1 \(--boundary unit/);
  assert.match(cntscope("analyze", model, "--boundary", "zero").stdout, /Input nodes have s_in = 0 and output nodes s_out = 0/, "the legend follows the option");
});

test("analyze --json --per-node prints the report, equal to the float64 reference", () => {
  const r = cntscope("analyze", model, "--json", "--per-node");
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.is(report.source.format, "safetensors");
  assert.equal(report.options.bins, 64);
  const expected = JSON.parse(readFileSync("test/fixtures/digits-mlp.expected.json", "utf8")) as ExpectedReport;
  assertMatchesExpected(report, expected, 1e-9);
});

test("--bins, --bias ignore and --boundary zero change what they should", () => {
  const r = JSON.parse(cntscope("analyze", model, "--json", "--bins", "8", "--bias", "ignore", "--boundary=zero").stdout);
  assert.is(r.options.bins, 8);
  assert.is(r.layers[0].linkWeights.histogram.counts.length, 8);
  assert.is(r.nodeLayers[0].strengthIn.mean, 0, "inputs get s_in = 0");
  assert.is(r.nodeLayers[3].strengthOut.mean, 0, "outputs get s_out = 0");
  const withBias = JSON.parse(cntscope("analyze", model, "--json", "--per-node").stdout);
  const bias = withBias.layers[2].bias;
  const shift = withBias.nodeLayers[3].strengthIn.mean - r.nodeLayers[3].strengthIn.mean;
  assert.ok(Math.abs(shift - bias.mean) < 1e-12, "bias in adds the mean bias to the mean s_in");
});

test("convert writes a .cnt that analyzes to the same report", () => {
  const out = join(tmp, "digits.cnt");
  const c = cntscope("convert", model, out);
  assert.is(c.code, 0, c.stderr);
  const a = JSON.parse(cntscope("analyze", model, "--json").stdout);
  const b = JSON.parse(cntscope("analyze", out, "--json").stdout);
  assert.is(b.source.format, "cnt");
  assert.equal(b.layers.map((l: { linkWeights: unknown }) => l.linkWeights), a.layers.map((l: { linkWeights: unknown }) => l.linkWeights));
  assert.equal(b.nodeLayers, a.nodeLayers);
});

test("info --json lists layers and tensors without metrics", () => {
  const r = cntscope("info", model, "--json");
  assert.is(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.layers.map((l: { name: string }) => l.name), ["0", "2", "4"]);
  assert.equal(info.tensors.find((t: { name: string }) => t.name === "0.weight").shape, [32, 64]);
});

test("bad input: CODE: message on stderr, exit 2, no stack", () => {
  const bad = join(tmp, "bad.safetensors");
  writeFileSync(bad, readFileSync(model).subarray(0, 500));
  const r = cntscope("analyze", bad);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^TRUNCATED: /);
  assert.not.match(r.stderr, /\n\s+at /);
  const html = join(tmp, "page.safetensors");
  writeFileSync(html, "<!doctype html><html>404</html>");
  const h = cntscope("analyze", html);
  assert.is(h.code, 2);
  assert.match(h.stderr, /^BAD_MAGIC: .*HTML/);
  const missing = cntscope("analyze", join(tmp, "nope.safetensors"));
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /^NOT_FOUND: .*no such file/);
  const flag = cntscope("analyze", model, "--bogus");
  assert.is(flag.code, 2);
  assert.match(flag.stderr, /Unknown option --bogus/);
  const bins = cntscope("analyze", model, "--bins", "0");
  assert.is(bins.code, 2);
  assert.match(bins.stderr, /^BAD_OPTION: Option --bins must be an integer from 1 to 1,000,000; got "0"/);
});

test("info prints a readable summary: format, bytes, parameters, dtypes, layers by kind", () => {
  const r = cntscope("info", model);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^digits-mlp\.safetensors  \(safetensors, 11,936 bytes\)/);
  // 64*32 + 32 + 32*16 + 16 + 16*10 + 10 parameters (the MLP 64-32-16-10), counted by hand.
  assert.match(r.stdout, /parameters: 2,778 in 6 tensors/);
  assert.match(r.stdout, /dtypes: f32 x6/);
  assert.match(r.stdout, /layers: 3 with weights \(dense x3\)/);
  assert.match(r.stdout, /\n  0 +dense +\[32, 64\] f32/);
});

test("-h and --help anywhere print the help with exit 0; the help lists every format and flag", () => {
  for (const args of [["-h"], ["--help"], ["analyze", model, "-h"], ["convert", "--help"], ["help", "info"]]) {
    const r = cntscope(...args);
    assert.is(r.code, 0, args.join(" "));
    assert.match(r.stdout, /^cntscope \d+\.\d+\.\d+: /);
  }
  const all = cntscope("--help").stdout;
  for (const format of ["safetensors", "ONNX", ".npy", ".npz", "TF.js", ".cnt", "PyTorch", "GGUF", "Keras"]) assert.ok(all.includes(format), format);
  for (const flag of ["--json", "--per-node", "--bins", "--block-bytes", "--force", "--workers", "--quiet"]) assert.ok(all.includes(flag), flag);
  assert.not.ok(cntscope("convert", "-h").stdout.includes("--per-node"), "a command's help lists its own flags");
  const none = cntscope();
  assert.is(none.code, 2);
  assert.match(none.stderr, /Usage:/);
});

test("the CLI speaks CLI: misspelt flags and commands get a suggestion, extra arguments and flags of no use are errors", () => {
  const cases: [string[], RegExp][] = [
    [["analyze", model, "--jsno"], /^BAD_OPTION: Unknown option --jsno\. Did you mean --json\?/],
    [["analize", model], /^BAD_OPTION: Unknown command "analize"\. Did you mean analyze\?/],
    [["analyze", model, "extra"], /^BAD_OPTION: cntscope analyze takes one file, but got 2/],
    [["analyze", model, "--per-node"], /^BAD_OPTION: Option --per-node .* needs --json/],
    [["analyze", model, "--force"], /^BAD_OPTION: Option --force is for cntscope convert, not cntscope analyze/],
    [["info", model, "--bins", "8"], /^BAD_OPTION: Option --bins is for cntscope analyze, compare, report, population and merge, not cntscope info/],
    [["analyze", model, "--bins", "abc"], /^BAD_OPTION: Option --bins must be an integer from 1 to 1,000,000; got "abc"\./],
    [["analyze", model, "--block-bytes", "8"], /^BAD_OPTION: Option --block-bytes must be an integer from 64/],
    [["analyze", model, "--bias", "out"], /^BAD_OPTION: Option --bias must be in or ignore; got "out"/],
    [["analyze", model, "--input", "3xfoo"], /^BAD_OPTION: Option --input must be positive sizes joined by x/],
    [["analyze", model, "--link-edges", "1,0"], /^BAD_OPTION: Option --link-edges must be at least two finite numbers in ascending order/],
    [["analyze", model, "--json=yes"], /^BAD_OPTION: Option --json is a switch and takes no value/],
    [["analyze", model, "--bins"], /^BAD_OPTION: Option --bins needs a value/],
    [["analyze", model, "-x"], /^BAD_OPTION: Unknown option "-x"/],
  ];
  for (const [args, expected] of cases) {
    const r = cntscope(...args);
    assert.is(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, expected, args.join(" "));
    assert.not.match(r.stderr, /blockBytes|inputShape|linkEdges/, "messages name CLI flags, not API options");
  }
});

test.run();
