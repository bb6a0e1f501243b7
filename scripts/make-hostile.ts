// Writes the hostile-input corpus: test/hostile/files/* (small, deterministic bad files) and the
// table test/hostile/cases.json that says what analyze() must do with each (STYLE habit 12;
// checklist: shared/spec/hostile-inputs.md section 3, whose case numbers the `spec` column cites).
//
//   node --import tsx scripts/make-hostile.ts          write the files and the table
//   node --import tsx scripts/make-hostile.ts --check  exit 1 when the committed corpus differs
//
// Rows for readers that do not exist yet (ONNX, TF.js, npz) go in the same table: add a builder
// below with `format` set, and the corpus test runs it like the others.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Builder } from "flatbuffers";
import { Model, Tensor } from "../src/formats/cnt/generated/model_generated.js";
import { PREFIX_BYTES, dataStartFor, encodePrefix } from "../src/formats/cnt/layout.js";
import {
  cntField, cntMlp, cntOf, concat, entry, f32, header, mlpTensors, prng, raw, safetensors, safetensorsOf, setInt, text, u16, values,
  type StTensor,
} from "../test/hostile/builders.js";

/** One row of test/hostile/cases.json. */
export interface HostileCase {
  /** File under test/hostile/files/. */
  file: string;
  /** Reader the bytes are meant for (or that they pretend to be). */
  format: "safetensors" | "cnt" | "other";
  /** CntError code analyze() must reject with, or "ok" for a report. */
  expect: string;
  /** A phrase the message must contain. */
  phrase?: string;
  /** Code for a ReadableStream of unknown size, when it legitimately differs (see note). */
  streamExpect?: string;
  /** Phrase for the stream's message, when it differs. */
  streamPhrase?: string;
  /** analyze() options for this row (limits, boundary). */
  options?: Record<string, unknown>;
  /** Report fields an "ok" row must have: path (as `layers[0].linkWeights.nan`) -> value. */
  check?: Record<string, unknown>;
  /**
   * A known bug not fixed yet (where, what): the corpus test still checks the code and phrase but
   * not the memory bound, and says when the issue no longer reproduces.
   */
  knownIssue?: string;
  /** Case number in shared/spec/hostile-inputs.md section 3 (or "4.n" for a .cnt verifier rule). */
  spec: string;
  note: string;
}

type Row = HostileCase & { bytes: Uint8Array };

const STREAM_END = "A stream of unknown size cannot compare the declared end with the file size, so it meets the end while reading: TRUNCATED.";

export async function buildCorpus(): Promise<Row[]> {
  const rows: Row[] = [];
  const add = (row: Row) => rows.push(row);
  const mlp = mlpTensors();
  const valid = safetensorsOf(mlp);
  const headerLength = Number(new DataView(valid.buffer).getBigUint64(0, true));
  const dataStart = 8 + headerLength;
  const cnt = cntMlp();
  const validCnt = await cntOf(cnt.model, cnt.data);
  const cntHeaderLength = Number(new DataView(validCnt.buffer).getBigUint64(8, true));
  const cntDataStart = dataStartFor(cntHeaderLength);
  const st = (pairs: (readonly [string | ReturnType<typeof raw>, string])[], data: Uint8Array) => safetensors(header(pairs), data);

  // ---- valid baselines: the corpus test checks them too, so a broken baseline is caught first
  add({ file: "st-00-valid-mlp.safetensors", format: "safetensors", bytes: valid, expect: "ok", spec: "-", note: "Baseline every safetensors row is cut or forged from.", check: { "layers.length": 2, "nodeLayers.length": 3, "layers[0].linkWeights.count": 12 } });
  add({ file: "cnt-00-valid-mlp.cnt", format: "cnt", bytes: validCnt, expect: "ok", spec: "-", note: "Baseline every .cnt row is cut or forged from (fc2.weight is f16).", check: { "layers.length": 2, "nodeLayers.length": 3, "layers[1].linkWeights.count": 6 } });

  // ---- 1, 2: empty and shorter than the prefix
  add({ file: "st-01-empty.safetensors", format: "safetensors", bytes: new Uint8Array(0), expect: "TRUNCATED", phrase: "empty", spec: "1", note: "0 bytes." });
  add({ file: "cnt-01-empty.cnt", format: "cnt", bytes: new Uint8Array(0), expect: "TRUNCATED", phrase: "empty", spec: "1", note: "0 bytes named .cnt." });
  add({ file: "st-02-five-bytes.safetensors", format: "safetensors", bytes: valid.slice(0, 5), expect: "TRUNCATED", phrase: "5 bytes", streamPhrase: "ended at byte 5", spec: "2", note: "Too short for any reader's detection; says the byte counts." });
  add({ file: "cnt-02-three-bytes.cnt", format: "cnt", bytes: validCnt.slice(0, 3), expect: "TRUNCATED", phrase: "3 bytes", streamPhrase: "ended at byte 3", spec: "2", note: "'CNT': a prefix of the magic." });
  add({ file: "cnt-02-magic-only.cnt", format: "cnt", bytes: validCnt.slice(0, 10), expect: "TRUNCATED", phrase: "prefix", streamPhrase: "ended at byte 10", spec: "2", note: "Magic and version, then nothing: the 16-byte prefix is cut." });

  // ---- 3: truncated at each structural boundary
  add({ file: "st-03-cut-after-prefix.safetensors", format: "safetensors", bytes: valid.slice(0, 8), expect: "TRUNCATED", phrase: "8 bytes", streamPhrase: "ended at byte 8", spec: "3", note: "Only the u64 header length." });
  add({ file: "st-03-cut-mid-header.safetensors", format: "safetensors", bytes: valid.slice(0, 8 + (headerLength >> 1)), expect: "TRUNCATED", phrase: "header length", streamPhrase: "truncated", spec: "3", note: "Half the JSON header." });
  add({ file: "st-03-cut-at-data.safetensors", format: "safetensors", bytes: valid.slice(0, dataStart), expect: "OUT_OF_BOUNDS", phrase: "data region has 0 bytes", streamExpect: "TRUNCATED", streamPhrase: "truncated", spec: "3", note: `Header whole, no data. With a known size the reader sees a tensor past the data region (OUT_OF_BOUNDS, spec case 20: the two are the same bytes). ${STREAM_END}` });
  add({ file: "st-03-cut-mid-tensor.safetensors", format: "safetensors", bytes: valid.slice(0, dataStart + 30), expect: "OUT_OF_BOUNDS", phrase: "data region has 30 bytes", streamExpect: "TRUNCATED", streamPhrase: "truncated", spec: "3", note: `Cut inside fc1.weight. ${STREAM_END}` });
  add({ file: "st-03-one-byte-short.safetensors", format: "safetensors", bytes: valid.slice(0, valid.length - 1), expect: "OUT_OF_BOUNDS", phrase: "data region has 91 bytes", streamExpect: "TRUNCATED", streamPhrase: "truncated", spec: "3", note: `Last byte missing. ${STREAM_END}` });
  add({ file: "cnt-03-cut-prefix.cnt", format: "cnt", bytes: validCnt.slice(0, PREFIX_BYTES), expect: "TRUNCATED", phrase: "bytes follow the prefix", streamPhrase: "header", spec: "3", note: "Prefix only: the declared header is missing." });
  add({ file: "cnt-03-cut-mid-header.cnt", format: "cnt", bytes: validCnt.slice(0, PREFIX_BYTES + (cntHeaderLength >> 1)), expect: "TRUNCATED", phrase: "header", spec: "3", note: "Half the FlatBuffer." });
  add({ file: "cnt-03-cut-at-data.cnt", format: "cnt", bytes: validCnt.slice(0, cntDataStart), expect: "OUT_OF_BOUNDS", phrase: "data region has 0 bytes", streamExpect: "TRUNCATED", streamPhrase: "truncated", spec: "3", note: `Header and padding whole, no data. ${STREAM_END}` });
  add({ file: "cnt-03-cut-mid-tensor.cnt", format: "cnt", bytes: validCnt.slice(0, cntDataStart + 100), expect: "OUT_OF_BOUNDS", phrase: "'fc2.weight'", streamExpect: "TRUNCATED", streamPhrase: "truncated", spec: "3", note: `Cut in the padding after fc1.bias: fc2.weight (data bytes 128-140) is missing. ${STREAM_END}` });
  add({ file: "cnt-03-one-byte-short.cnt", format: "cnt", bytes: validCnt.slice(0, cntDataStart + 199), expect: "OUT_OF_BOUNDS", phrase: "ends at data byte 200", streamExpect: "TRUNCATED", streamPhrase: "truncated", spec: "3", note: `fc2.bias (data bytes 192-200) one byte short; the final padding is gone too. ${STREAM_END}` });
  add({ file: "cnt-03-no-final-padding.cnt", format: "cnt", bytes: validCnt.slice(0, cntDataStart + 200), expect: "ok", spec: "3", note: "Cut exactly after the last tensor: the zero padding to 64 bytes is optional, so this is a whole model.", check: { "layers.length": 2 } });

  // ---- 4, 5, 6: not a model, or a code-bearing one
  const r = prng(4);
  const random = Uint8Array.from({ length: 512 }, () => Math.floor(r() * 256));
  add({ file: "other-04-random.safetensors", format: "other", bytes: random, expect: "BAD_MAGIC", phrase: "binary data starting", spec: "4", note: "512 seeded random bytes named .safetensors: detection goes by content." });
  add({ file: "st-04-named.onnx", format: "safetensors", bytes: valid, expect: "ok", spec: "4", note: "A safetensors file named .onnx is read as safetensors (content first).", check: { "source.format": "safetensors" } });
  add({ file: "other-05-git-lfs-pointer.safetensors", format: "other", bytes: text("version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 438012345\n"), expect: "BAD_MAGIC", phrase: "Git LFS pointer", spec: "5", note: "A clone without git lfs pull." });
  add({ file: "other-05-html-error.safetensors", format: "other", bytes: text("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"), expect: "BAD_MAGIC", phrase: "HTML", spec: "5", note: "A download that returned an error page." });
  add({ file: "other-05-config.json.safetensors", format: "other", bytes: text('{\n  "architectures": ["BertModel"],\n  "hidden_size": 768,\n  "num_hidden_layers": 12\n}\n'), expect: "BAD_MAGIC", phrase: "JSON text", spec: "5", note: "A model's config.json saved under the weights' name." });
  add({ file: "other-06-bare.pkl", format: "other", bytes: Uint8Array.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01, 0x4b, 0x01, 0x73, 0x2e]), expect: "UNSUPPORTED_FORMAT", phrase: "pickle", spec: "6", note: "pickle protocol 2 of {'a': 1}: refused, never interpreted." });
  add({ file: "other-06-pytorch.pt", format: "other", bytes: storedZip("archive/data.pkl", Uint8Array.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e])), expect: "BAD_HEADER", phrase: "no dict of tensors", streamExpect: "BAD_OPTION", streamPhrase: "one-shot stream", spec: "6", note: "A PyTorch zip checkpoint whose data.pkl is an empty dict: read by the restricted unpickler (nothing executed), which finds no tensors: BAD_HEADER. A one-shot stream cannot reach the zip directory at the end: BAD_OPTION." });
  const npyDict = "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }";
  add({ file: "other-06-object.npy", format: "other", bytes: concat(Uint8Array.of(0x93), text(`NUMPY\x01\x00v\x00${npyDict}${" ".repeat(117 - npyDict.length)}\n`), Uint8Array.of(0x80, 0x02, 0x5d, 0x71, 0x00, 0x28, 0x4b, 0x01, 0x4b, 0x02, 0x65, 0x2e)), expect: "BAD_DTYPE", phrase: "object dtype", spec: "6", note: "An object-dtype .npy (its data is a pickle): refused by the NumPy reader, nothing unpickled." });

  // ---- 7, 8: header length past the end or above the cap
  add({ file: "st-07-header-length-past-end.safetensors", format: "safetensors", bytes: safetensors(header([["fc1.bias", entry("F32", [2], 0, 8)]]), f32([1, 2]), { declared: BigInt(valid.length) }), expect: "TRUNCATED", phrase: "only", streamPhrase: "truncated", spec: "7", note: "N = the file's size." });
  add({ file: "st-07-header-length-u64-max.safetensors", format: "safetensors", bytes: safetensors(header([["fc1.bias", entry("F32", [2], 0, 8)]]), f32([1, 2]), { declared: 2n ** 64n - 1n }), expect: "TRUNCATED", phrase: "18446744073709551615", streamExpect: "TOO_LARGE", streamPhrase: "maxHeaderBytes", spec: "7", note: "N = 2^64 - 1; nothing is allocated from N. A stream of unknown size cannot compare N with the file, so the maxHeaderBytes cap refuses it first." });
  add({ file: "st-07-header-length-16mib.safetensors", format: "safetensors", bytes: safetensors(header([["fc1.bias", entry("F32", [2], 0, 8)]]), f32([1, 2]), { declared: BigInt(16 * 2 ** 20 - 8) }), expect: "TRUNCATED", phrase: "only", streamPhrase: "truncated", spec: "7", note: "N just under maxHeaderBytes in an 80-byte file: a stream of unknown size must not allocate N up front (the header buffer grows as bytes arrive; the memory bound catches a regression)." });
  add({ file: "cnt-07-header-length-16mib.cnt", format: "cnt", bytes: concat(encodePrefix(16 * 2 ** 20 - 8), validCnt.subarray(PREFIX_BYTES, 200)), expect: "TRUNCATED", phrase: "only", streamPhrase: "inside its 16,777,208-byte header", spec: "7", note: "The same for .cnt: a 16 MiB header declared in a 200-byte stream." });
  add({ file: "st-08-header-above-limit.safetensors", format: "safetensors", bytes: valid, expect: "TOO_LARGE", phrase: "maxHeaderBytes", options: { limits: { maxHeaderBytes: 64 } }, spec: "8", note: "The cap checked before reading the header (a small limit instead of a 300 MB sparse file)." });
  add({ file: "cnt-07-header-length-u64-max.cnt", format: "cnt", bytes: withInt(validCnt, "prefix header length", 2n ** 64n - 1n), expect: "TRUNCATED", phrase: "18,446,744,073,709,551,615", streamExpect: "TOO_LARGE", streamPhrase: "maxHeaderBytes", spec: "7", note: "u64 header length 0xFFFF_FFFF_FFFF_FFFF, compared as BigInt. Stream: see st-07-header-length-u64-max." });
  add({ file: "cnt-08-header-above-limit.cnt", format: "cnt", bytes: validCnt, expect: "TOO_LARGE", phrase: "maxHeaderBytes", options: { limits: { maxHeaderBytes: 64 } }, spec: "8", note: "Header above a small maxHeaderBytes." });

  // ---- 9: not UTF-8, not an object, trailing junk
    add({ file: "st-09-header-not-utf8.safetensors", format: "safetensors", bytes: safetensors(concat(text('{"fc1.bias'), Uint8Array.of(0xff), text(`":${entry("F32", [2], 0, 8)}}`)), f32([1, 2])), expect: "BAD_HEADER", phrase: "UTF-8", spec: "9", note: "Byte 0xFF inside a tensor name; decoded with the fatal decoder." });
  add({ file: "st-09-header-array.safetensors", format: "safetensors", bytes: safetensors("[]"), expect: "BAD_HEADER", phrase: "starting with '{'", spec: "9", note: "Header `[]`: recognised as safetensors by its length prefix, refused as not an object." });
  add({ file: "st-09-header-trailing-junk.safetensors", format: "safetensors", bytes: safetensors(`${header([["fc1.bias", entry("F32", [2], 0, 8)]])}xyz`, f32([1, 2])), expect: "BAD_HEADER", phrase: "not valid JSON", spec: "9", note: "JSON followed by junk inside the declared header." });
  add({ file: "cnt-09-bad-utf8-name.cnt", format: "cnt", bytes: patchText(validCnt, "fc1.bias", Uint8Array.of(0x66, 0x63, 0x31, 0xff)), expect: "BAD_HEADER", phrase: "UTF-8", spec: "4.6", note: "A name's bytes made invalid UTF-8 inside the FlatBuffer." });

  // ---- 10, 11: duplicate and hostile names
  add({ file: "st-10-duplicate-name.safetensors", format: "safetensors", bytes: st([["fc1.bias", entry("F32", [2], 0, 8)], ["fc1.bias", entry("F32", [2], 8, 16)]], f32([1, 2, 3, 4])), expect: "BAD_HEADER", phrase: "twice", spec: "10", note: "Same key twice: never 'last wins'." });
  add({ file: "cnt-10-duplicate-name.cnt", format: "cnt", bytes: duplicateTensorRef(validCnt), expect: "BAD_HEADER", phrase: "twice", spec: "10", note: "tensors[1] forged to point at tensors[0]'s table: the same name twice." });
  const protoData = f32(values(12, 9));
  add({
    file: "st-11-proto-names.safetensors", format: "safetensors",
    bytes: st([
      ["__metadata__", '{"__proto__":"x","constructor":"y"}'],
      ["__proto__", `{"dtype":"F32","shape":[2],"data_offsets":[0,8],"polluted":1}`],
      ["constructor", entry("F32", [2], 8, 16)],
      ["__proto__.weight", entry("F32", [2, 2], 16, 32)],
      ["constructor.prototype.weight", entry("F32", [2, 2], 32, 48)],
    ], protoData),
    expect: "ok", spec: "11", note: "Names that are Object.prototype keys are plain text: no prototype changes (the test checks ({}).polluted and Object.prototype's keys after every row).",
    check: { "layers.length": 4 },
  });
  add({ file: "st-11-control-char-names.safetensors", format: "safetensors", bytes: st([["fc\u0000\u001b[31m.weight", entry("F17", [2], 0, 8)]], f32([1, 2])), expect: "BAD_DTYPE", phrase: "'fc\\x00\\x1b[31m.weight'", spec: "11", note: "NUL and an ESC colour sequence in a name are printed escaped (the test also checks no raw control character reaches any message)." });
    add({ file: "st-11-lone-surrogate-name.safetensors", format: "safetensors", bytes: st([[raw('"fc\\ud800.weight"'), entry("F32", [2, -1], 0, 8)]], f32([1, 2])), expect: "BAD_SHAPE", phrase: "\\ud800", spec: "11", note: "A lone surrogate (\\ud800 in the JSON) is accepted as text and printed escaped." });
  add({ file: "st-11-long-name.safetensors", format: "safetensors", bytes: st([[`${"n".repeat(1 << 18)}.weight`, entry("F32", [2], 0, 8)]], f32([1, 2])), expect: "TOO_LARGE", phrase: "maxNameBytes", spec: "11", note: "A 256 KiB name against maxNameBytes = 4 KiB (git stores it as ~1 KiB). The spec's 1 MiB name behaves the same, but as a stream of 1-byte chunks it costs ~2 s of stream overhead alone." });
  add({ file: "cnt-11-long-name.cnt", format: "cnt", bytes: validCnt, expect: "TOO_LARGE", phrase: "maxNameBytes", options: { limits: { maxNameBytes: 4 } }, spec: "11", note: "Every .cnt string counts against maxNameBytes (a small limit here)." });

  // ---- 12: many entries
  const many: [string, string][] = [];
  for (let i = 0; i < 300; i++) many.push([`t${i}`, entry("F32", [0], 0, 0)]);
  add({ file: "st-12-many-tensors.safetensors", format: "safetensors", bytes: st(many, new Uint8Array(0)), expect: "TOO_LARGE", phrase: "maxTensors", options: { limits: { maxTensors: 100 } }, spec: "12", note: "300 entries against maxTensors = 100 (the cheap stand-in for 10^7)." });

  // ---- 13-16: shapes
  const dimCase = (file: string, shape: unknown, phrase: string, note: string) =>
    add({ file, format: "safetensors", bytes: st([["fc1.weight", entry("F32", shape, 0, 8)]], f32([1, 2])), expect: "BAD_SHAPE", phrase, spec: file.startsWith("st-13") ? "13" : "15", note });
  dimCase("st-13-dim-negative.safetensors", raw("[-1,2]"), "dim 0 is -1", "Dim -1.");
  dimCase("st-13-dim-fraction.safetensors", raw("[2,1.5]"), "dim 1 is 1.5", "Dim 1.5.");
  dimCase("st-13-dim-string.safetensors", raw('["2",1]'), `dim 0 is '"2"'`, 'Dim "2" (a string).');
  dimCase("st-13-dim-null.safetensors", raw("[null,2]"), "dim 0 is 'null'", "Dim null.");
  dimCase("st-13-dim-1e400.safetensors", raw("[1e400]"), "dim 0", "Dim 1e400 (JSON.parse gives Infinity).");
  dimCase("st-15-dims-over-2p53.safetensors", raw("[134217728,134217728,134217728]"), "exceeds 2^53", "[2^27, 2^27, 2^27]: the checked product stops at 2^53.");
  dimCase("st-15-dim-2p62.safetensors", raw("[4611686018427387904,4]"), "dim 0", "[2^62, 4]: 2^62 is not a safe integer.");
  add({ file: "st-16-rank-1000.safetensors", format: "safetensors", bytes: st([["fc1.weight", entry("F32", new Array(1000).fill(1), 0, 4)]], f32([1])), expect: "TOO_LARGE", phrase: "maxRank", spec: "16", note: "1,000 dims: over maxRank = 8 (a limit, so TOO_LARGE naming it, as section 1 says for every limit)." });
  add({ file: "st-16-rank0-weight.safetensors", format: "safetensors", bytes: st([["fc1.weight", entry("F32", [], 0, 4)]], f32([0.5])), expect: "ok", spec: "16", note: "A rank-0 'weight': a safetensors state_dict says nothing of layer kinds, so it is a distribution-only layer ('other'), not an unsupported dense layer.", check: { "layers[0].kind": "other", "layers[0].linkWeights.count": 1 } });

  // ---- 17-19: dtypes
  add({ file: "st-17-unknown-dtype.safetensors", format: "safetensors", bytes: st([["fc1.weight", entry("F17", [2], 0, 8)]], f32([1, 2])), expect: "BAD_DTYPE", phrase: "known dtypes are", spec: "17", note: "dtype F17." });
  add({ file: "st-17-dtype-proto.safetensors", format: "safetensors", bytes: st([["fc1.weight", entry("__proto__", [2], 0, 8)], ["fc2.weight", entry("constructor", [2], 8, 16)]], f32([1, 2, 3, 4])), expect: "BAD_DTYPE", phrase: "known dtypes are", spec: "17", note: "dtype '__proto__' / 'constructor' must not find Object.prototype members in the dtype tables (they did: the width became an object and the message said 'takes NaN bytes')." });
  add({ file: "st-13-dim-c1-control.safetensors", format: "safetensors", bytes: st([["fc1.weight", entry("F32", ["\u009b31m", 2], 0, 8)]], f32([1, 2])), expect: "BAD_SHAPE", phrase: "\\x9b31m", spec: "13", note: "A string dim holding U+009B (CSI): printed escaped (JSON.stringify leaves C1 controls raw)." });
  add({ file: "st-21-offset-string-c1.safetensors", format: "safetensors", bytes: st([["fc1.weight", entry("F32", [2], "\u0085", 8)]], f32([1, 2])), expect: "OUT_OF_BOUNDS", phrase: "data_offsets[0]", spec: "21", note: "A string offset holding U+0085: refused, printed escaped." });
  add({ file: "cnt-17-dtype-250.cnt", format: "cnt", bytes: withInt(validCnt, "model.5[2].1", 250n), expect: "BAD_DTYPE", phrase: "is 250", spec: "17", note: "fc2.weight's dtype enum forged to 250." });
  add({ file: "st-18-dtype-size-mismatch.safetensors", format: "safetensors", bytes: st([["fc1.weight", entry("F32", [4, 4], 0, 32)]], new Uint8Array(32)), expect: "BAD_DTYPE", phrase: "takes 64 bytes", spec: "18", note: "F32 [4, 4] over 32 bytes." });
  add({ file: "cnt-18-length-mismatch.cnt", format: "cnt", bytes: withInt(validCnt, "model.5[1].4", 16n), expect: "BAD_DTYPE", phrase: "take 12", spec: "18", note: "fc1.bias length forged from 12 to 16." });
  const intWeight = (file: string, dtype: StTensor["dtype"], phrase: string) =>
    add({ file, format: "safetensors", bytes: safetensorsOf([mlp[0]!, mlp[1]!, { name: "fc2.weight", dtype, shape: [2, 3], data: Uint8Array.of(1, 0, 1, 1, 0, 1) }, mlp[3]!]), expect: "BAD_DTYPE", phrase, spec: "19", note: `fc2.weight in ${dtype}: the weight of layer fc2 cannot be measured, so the model is refused instead of silently dropping fc2 from the chain (integer tensors no layer uses are still listed in report.skipped).` });
  intWeight("st-19-bool-weight.safetensors", "BOOL", "not supported for metrics");
  intWeight("st-19-i8-weight.safetensors", "I8", "not supported for metrics");
  add({ file: "st-19-int-buffer-skipped.safetensors", format: "safetensors", bytes: safetensorsOf([...mlp, { name: "bn.num_batches_tracked", dtype: "I64", shape: [], data: new Uint8Array(8) }]), expect: "ok", spec: "19", note: "An I64 counter that no layer uses is skipped and listed, not an error.", check: { "skipped.length": 1, "skipped[0].dtype": "I64", "layers.length": 2 } });

  // ---- 20-24: offsets
  const two = (a: [unknown, unknown], b: [unknown, unknown], data = f32([1, 2, 3, 4])) => st([["fc1.bias", entry("F32", [2], a[0], a[1])], ["fc2.bias", entry("F32", [2], b[0], b[1])]], data);
  add({ file: "st-20-offset-past-end.safetensors", format: "safetensors", bytes: two([0, 8], [8, 16], new Uint8Array(15)), expect: "OUT_OF_BOUNDS", phrase: "data region has 15 bytes", streamExpect: "TRUNCATED", streamPhrase: "truncated", spec: "20", note: `end = data size + 1. ${STREAM_END}` });
  add({ file: "st-21-offsets-reversed.safetensors", format: "safetensors", bytes: two([0, 8], [16, 8]), expect: "OUT_OF_BOUNDS", phrase: "end is before the begin", spec: "21", note: "data_offsets [16, 8]." });
  add({ file: "st-21-offsets-negative.safetensors", format: "safetensors", bytes: two([-8, 8], [8, 16]), expect: "OUT_OF_BOUNDS", phrase: "data_offsets[0]", spec: "21", note: "data_offsets [-8, 8]." });
  add({ file: "st-22-offset-2p53.safetensors", format: "safetensors", bytes: two([0, 8], [raw("9007199254740993"), raw("9007199254741001")]), expect: "OUT_OF_BOUNDS", phrase: "[0, 2^53)", spec: "22", note: "9007199254740993 written as raw JSON text (JSON.parse rounds it to ...992): refused by the safe-integer check." });
  add({ file: "cnt-22-offset-u64-max.cnt", format: "cnt", bytes: withInt(validCnt, "model.5[1].3", 2n ** 64n - 1n), expect: "OUT_OF_BOUNDS", phrase: "18446744073709551615", spec: "22", note: "fc1.bias offset forged to 0xFFFF_FFFF_FFFF_FFFF: the BigInt is checked, never narrowed." });
  add({ file: "st-23-overlap.safetensors", format: "safetensors", bytes: two([0, 8], [4, 12], f32([1, 2, 3])), expect: "OVERLAP", phrase: "share bytes", spec: "23", note: "Two tensors sharing bytes 4-8." });
  const same: [string, string][] = [];
  for (let i = 0; i < 1000; i++) same.push([`layer${i}.weight`, entry("F32", [2, 2], 0, 16)]);
  add({ file: "st-23-overlap-1000.safetensors", format: "safetensors", bytes: st(same, f32([1, 2, 3, 4])), expect: "OVERLAP", phrase: "share bytes", spec: "23", note: "1,000 tensors on one 16-byte region: refused from the header, before any per-tensor work." });
  add({ file: "cnt-23-overlap.cnt", format: "cnt", bytes: withInt(validCnt, "model.5[1].3", 0n), expect: "OVERLAP", phrase: "'fc1.weight'", spec: "23", note: "fc1.bias moved onto fc1.weight (offset 64 -> 0)." });
  add({ file: "st-24-gap.safetensors", format: "safetensors", bytes: two([0, 8], [12, 20], f32([1, 2, 3, 4, 5])), expect: "BAD_HEADER", phrase: "gap of 4 bytes", spec: "24", note: "A 4-byte hole between tensors: the format requires exact coverage." });
  add({ file: "st-24-trailing-bytes.safetensors", format: "safetensors", bytes: concat(valid, text("#!/bin/sh\n")), expect: "BAD_HEADER", phrase: "follow the last tensor", streamExpect: "ok", spec: "24", note: "10 bytes after the last tensor (a polyglot). A stream of unknown size is not read past the last tensor, so it reports the model: the trailing bytes go unseen (listed as open in the hostile tests' notes)." });

  // ---- 25: misaligned .cnt tensor
  add({ file: "cnt-25-misaligned-offset.cnt", format: "cnt", bytes: withInt(validCnt, "model.5[1].3", 72n), expect: "BAD_HEADER", phrase: "not a multiple of 64", spec: "25", note: "fc1.bias at data offset 72." });

  // ---- 26: huge tensor declared in a tiny file
  const huge = st([["fc1.weight", entry("F32", [3, 4], 0, 48)], ["fc1.bias", entry("F32", [3], 48, 60)], ["fc2.weight", entry("F32", [2, 3], 60, 84)], ["fc2.bias", entry("F32", [2], 84, 92)], ["huge", entry("F32", [4294967296], 92, 92 + 2 ** 34)]], concat(...mlp.map((t) => t.data), new Uint8Array(64)));
  add({ file: "st-26-huge-tensor.safetensors", format: "safetensors", bytes: huge, expect: "OUT_OF_BOUNDS", phrase: "17,179,869,276", streamExpect: "TRUNCATED", streamPhrase: "truncated", spec: "26", note: `A tensor 'huge' declared as 2^32 f32 (16 GiB) in a ~0.4 KB file; memory stays at a few MB. ${STREAM_END}` });
  const hugeDense = st([["fc1.weight", entry("F32", [3, 4], 0, 48)], ["fc1.bias", entry("F32", [3], 48, 60)], ["fc2.weight", entry("F32", [2, 2 ** 26], 60, 60 + 2 ** 29)]], concat(mlp[0]!.data, mlp[1]!.data, new Uint8Array(64)));
  add({ file: "st-26-huge-dense-weight.safetensors", format: "safetensors", bytes: hugeDense, expect: "OUT_OF_BOUNDS", phrase: "536,870,972", streamExpect: "TOO_LARGE", streamPhrase: "maxLayerNodes", spec: "26", note: "A dense weight declared [2, 2^26] f32 (512 MiB) in a ~0.3 KB file. A stream of unknown size cannot compare the declared end with the file size; its row and column sums would be reserved from the shape, so the 2^26 columns meet the maxLayerNodes limit (2^24) first: TOO_LARGE." });
  const withHuge = await cntOf({ ...cnt.model, tensors: [...cnt.model.tensors, { name: "huge", dtype: "f32", shape: [16], byteLength: 64 }] }, [...cnt.data, new Uint8Array(64)]);
  add({ file: "cnt-26-huge-tensor.cnt", format: "cnt", bytes: withInts(withHuge, [["model.5[4].2[0]", 2n ** 32n], ["model.5[4].4", 2n ** 34n]]), expect: "OUT_OF_BOUNDS", phrase: "17,179,869,440", streamExpect: "TRUNCATED", streamPhrase: "truncated", spec: "26", note: `A tensor 'huge' forged to shape [2^32] and length 2^34 (16 GiB). ${STREAM_END}` });

  // ---- 28-30: FlatBuffers structure
  add({ file: "cnt-28-root-offset-zero.cnt", format: "cnt", bytes: withInt(validCnt, "root uoffset", 0n), expect: "BAD_HEADER", phrase: "zero offset", spec: "28", note: "Root uoffset 0." });
  add({ file: "cnt-28-root-past-end.cnt", format: "cnt", bytes: withInt(validCnt, "root uoffset", 0x10000n), expect: "BAD_HEADER", phrase: "past the end", spec: "28", note: "Root uoffset beyond the header." });
  add({ file: "cnt-28-bad-magic.cnt", format: "cnt", bytes: patchBytes(validCnt, 0, text("CNTX")), expect: "BAD_MAGIC", phrase: "binary data starting 43 4e 54 58", spec: "4.1", note: "Magic CNTX: not recognised as .cnt at all." });
  add({ file: "cnt-28-version-9.cnt", format: "cnt", bytes: withInt(validCnt, "prefix version", 9n), expect: "BAD_MAGIC", phrase: "version 9", spec: "4.1", note: "A newer format version, named with the one we read." });
  add({ file: "cnt-28-file-identifier.cnt", format: "cnt", bytes: patchBytes(validCnt, PREFIX_BYTES + 4, text("XXXX")), expect: "BAD_MAGIC", phrase: "file identifier", spec: "4.1", note: "FlatBuffers identifier XXXX instead of CNT1." });
  add({ file: "cnt-28-odd-vtable.cnt", format: "cnt", bytes: withInt(validCnt, "model.5[0] vtable size", 7n), expect: "BAD_HEADER", phrase: "must be even", spec: "28", note: "A vtable of odd size." });
  add({ file: "cnt-29-cycle.cnt", format: "cnt", bytes: cycle(validCnt), expect: "BAD_HEADER", phrase: "past the end", spec: "29", note: "tensors[0] points back at the root table (a backward offset, which wraps in 32 bits): offsets only go forward." });
  add({ file: "cnt-29-dag-explosion.cnt", format: "cnt", bytes: dagCnt(2000), expect: "TOO_LARGE", phrase: "maxTables", options: { limits: { maxTables: 1000 } }, spec: "29", note: "One tensor table referenced 2,000 times, against maxTables = 1,000: each reference counts." });
  add({ file: "cnt-29-depth.cnt", format: "cnt", bytes: validCnt, expect: "TOO_LARGE", phrase: "maxDepth", options: { limits: { maxDepth: 1 } }, spec: "29", note: "Nesting deeper than a small maxDepth." });
  add({ file: "cnt-30-forged-vector-length.cnt", format: "cnt", bytes: withInt(validCnt, "model.4 length", 0x7fffffffn), expect: "OUT_OF_BOUNDS", phrase: "2,147,483,647 elements", spec: "30", note: "layers vector length 2^31 - 1, refused before any loop." });
  add({ file: "cnt-30-forged-vector-length-neg.cnt", format: "cnt", bytes: withInt(validCnt, "model.5 length", 0xffffffffn), expect: "OUT_OF_BOUNDS", phrase: "4,294,967,295 elements", spec: "30", note: "tensors vector length -1 (0xFFFFFFFF)." });

  // ---- 31-33: empty models, non-finite and degenerate values
  add({ file: "st-31-no-tensors.safetensors", format: "safetensors", bytes: safetensors('{"__metadata__":{"format":"pt"}}'), expect: "BAD_HEADER", phrase: "no tensors", spec: "31", note: "Only __metadata__: says what was found." });
  add({ file: "st-31-empty-header.safetensors", format: "safetensors", bytes: safetensors("{}"), expect: "BAD_HEADER", phrase: "no tensors", spec: "31", note: "Header {}." });
  add({ file: "st-31-only-skipped.safetensors", format: "safetensors", bytes: safetensorsOf([{ name: "step", dtype: "I64", shape: [], data: new Uint8Array(8) }]), expect: "BAD_HEADER", phrase: "'step' (I64)", spec: "31", note: "Only an I64 scalar: nothing the metrics read, so no report." });
  add({ file: "st-31-only-biases.safetensors", format: "safetensors", bytes: safetensorsOf([mlp[1]!, mlp[3]!]), expect: "ok", spec: "31", note: "Only biases: each is reported as a distribution-only layer ('other'), with no node layers. Accepted on purpose: the tensors are measurable.", check: { "layers.length": 2, "layers[0].kind": "other", "nodeLayers.length": 0 } });
  add({ file: "cnt-31-no-layers.cnt", format: "cnt", bytes: await cntOf({ ...cnt.model, layers: [] }, cnt.data), expect: "ok", spec: "31", note: "Tensors but no layers: today a report with no layers (the tensors are read but not reported). Open question for the .cnt reader: refuse as BAD_HEADER instead?", check: { "layers.length": 0, "nodeLayers.length": 0 } });
  const nonFinite = [NaN, NaN, NaN, NaN, NaN, Infinity, Infinity, 0.5, -0.25, 0.75, 1, -1];
  add({ file: "st-32-nan-inf-f32.safetensors", format: "safetensors", bytes: safetensorsOf([{ ...mlp[0]!, data: f32(nonFinite) }, ...mlp.slice(1)]), expect: "ok", spec: "32", note: "5 NaN and 2 +Inf in fc1.weight: counted, excluded from the moments.", check: { "layers[0].linkWeights.nan": 5, "layers[0].linkWeights.posInf": 2, "layers[0].linkWeights.count": 5, "notes.length": 1 } });
  add({ file: "st-32-nan-inf-f16.safetensors", format: "safetensors", bytes: safetensorsOf([{ name: "fc1.weight", dtype: "F16", shape: [2, 3], data: u16([0x7e00, 0x7c00, 0xfc00, 0x3c00, 0x3800, 0xfe01]) }]), expect: "ok", spec: "32", note: "f16 NaN, +Inf, -Inf and a NaN with payload, after widening.", check: { "layers[0].linkWeights.nan": 2, "layers[0].linkWeights.posInf": 1, "layers[0].linkWeights.negInf": 1, "layers[0].linkWeights.count": 2 } });
  add({ file: "st-32-nan-inf-bf16.safetensors", format: "safetensors", bytes: safetensorsOf([{ name: "fc1.weight", dtype: "BF16", shape: [2, 3], data: u16([0x7fc0, 0x7f80, 0xff80, 0x3f80, 0x3f00, 0x7f81]) }]), expect: "ok", spec: "32", note: "bf16 NaN, +Inf, -Inf and a signalling NaN, after widening.", check: { "layers[0].linkWeights.nan": 2, "layers[0].linkWeights.posInf": 1, "layers[0].linkWeights.negInf": 1, "layers[0].linkWeights.count": 2 } });
  add({ file: "st-33-zero-size.safetensors", format: "safetensors", bytes: st([["fc1.weight", entry("F32", [0, 5], 0, 0)]], new Uint8Array(0)), expect: "ok", spec: "33", note: "Shape [0, 5] with begin == end: count 0, moments null (the documented value for an empty distribution).", check: { "layers[0].linkWeights.count": 0, "layers[0].linkWeights.std": null, "nodeLayers[1].size": 0, "nodeLayers[1].cv": null } });
  add({ file: "st-33-zero-size-wide.safetensors", format: "safetensors", bytes: st([["fc1.weight", entry("F32", [0, 2 ** 21], 0, 0)]], new Uint8Array(0)), expect: "TOO_LARGE", phrase: "maxLayerNodes", options: { limits: { maxLayerNodes: 2 ** 20 } }, spec: "33", note: "Shape [0, 2^21]: no bytes, yet 2^21 input nodes, whose strength vectors a ~100-byte file would make us hold: bounded by the maxLayerNodes limit (here lowered to 2^20)." });
  add({ file: "st-33-zero-size-huge.safetensors", format: "safetensors", bytes: st([["fc1.weight", entry("F32", [0, 2 ** 26], 0, 0)]], new Uint8Array(0)), expect: "TOO_LARGE", phrase: "maxLayerNodes", spec: "33", note: "Shape [0, 2^26] with the default limits: 2^26 nodes exceed maxLayerNodes (2^24) before anything is allocated (it once took ~2 GB and 8 s)." });
  add({ file: "st-33-constant.safetensors", format: "safetensors", bytes: safetensorsOf([{ name: "fc1.weight", dtype: "F32", shape: [2, 3], data: f32([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]) }]), expect: "ok", spec: "33", note: "All weights equal: std 0, fluctuation 0, CV 0.", check: { "layers[0].linkWeights.std": 0, "nodeLayers[0].fluctuation": 0, "nodeLayers[0].cv": 0 } });
  add({ file: "st-33-all-zero.safetensors", format: "safetensors", bytes: safetensorsOf([{ name: "fc1.weight", dtype: "F32", shape: [2, 3], data: f32([0, 0, 0, 0, 0, 0]) }]), expect: "ok", options: { boundary: "zero" }, spec: "33", note: "All weights 0 with boundary 'zero': every strength is 0, so the mean is 0 and CV is null (no division by zero).", check: { "layers[0].linkWeights.std": 0, "nodeLayers[0].fluctuation": 0, "nodeLayers[0].cv": null } });

  // ---- 36: a ReadableStream in 1-byte chunks is exercised for every row by the corpus test.
  return rows;
}

// ---------------------------------------------------------------------------------------------
// byte surgery

function withInt(file: Uint8Array, what: string, value: bigint): Uint8Array {
  return withInts(file, [[what, value]]);
}

function withInts(file: Uint8Array, changes: [string, bigint][]): Uint8Array {
  const out = file.slice();
  const fields = changes.map(([what]) => cntField(file, what)); // located on the valid bytes
  fields.forEach((f, i) => setInt(out, f, changes[i]![1]));
  return out;
}

function patchBytes(file: Uint8Array, at: number, bytes: Uint8Array): Uint8Array {
  const out = file.slice();
  out.set(bytes, at);
  return out;
}

/** Overwrite the first occurrence of `needle` (ASCII) with `bytes` of the same length. */
function patchText(file: Uint8Array, needle: string, bytes: Uint8Array): Uint8Array {
  const n = text(needle);
  for (let i = 0; i + n.length <= file.length; i++) {
    if (n.every((b, k) => file[i + k] === b)) return patchBytes(file, i, bytes);
  }
  throw new Error(`${needle} not found`);
}

/** tensors[1]'s uoffset forged to reach tensors[0]'s table. */
function duplicateTensorRef(file: Uint8Array): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const e0 = cntField(file, "model.5[0] uoffset").at;
  const e1 = cntField(file, "model.5[1] uoffset").at;
  const table0 = e0 + view.getUint32(e0, true);
  if (table0 <= e1) throw new Error("tensor table 0 is not after the vector");
  const out = file.slice();
  new DataView(out.buffer).setUint32(e1, table0 - e1, true);
  return out;
}

/** tensors[0]'s uoffset forged to point back at the root table (mod 2^32). */
function cycle(file: Uint8Array): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const root = PREFIX_BYTES + view.getUint32(PREFIX_BYTES, true);
  const e0 = cntField(file, "model.5[0] uoffset").at;
  const out = file.slice();
  new DataView(out.buffer).setUint32(e0, (root - e0) >>> 0, true);
  return out;
}

/** A .cnt head whose tensors vector holds `times` references to one tensor table. */
function dagCnt(times: number): Uint8Array {
  const b = new Builder(1024);
  const name = b.createString("t");
  const shape = Tensor.createShapeVector(b, [16n]);
  Tensor.startTensor(b);
  Tensor.addName(b, name);
  Tensor.addShape(b, shape);
  Tensor.addLength(b, 64n);
  const t = Tensor.endTensor(b);
  const tv = Model.createTensorsVector(b, new Array<number>(times).fill(t));
  const lv = Model.createLayersVector(b, []);
  Model.startModel(b);
  Model.addFormatVersion(b, 1);
  Model.addLayers(b, lv);
  Model.addTensors(b, tv);
  Model.finishModelBuffer(b, Model.endModel(b));
  const fb = b.asUint8Array();
  const head = new Uint8Array(dataStartFor(fb.length) + 64);
  head.set(encodePrefix(fb.length), 0);
  head.set(fb, PREFIX_BYTES);
  return head;
}

/** A one-entry zip archive, stored (no compression), as PyTorch writes `archive/data.pkl`. */
function storedZip(name: string, data: Uint8Array): Uint8Array {
  const n = text(name);
  const local = new Uint8Array(30);
  const lv = new DataView(local.buffer);
  lv.setUint32(0, 0x04034b50, true);
  lv.setUint16(4, 20, true);
  lv.setUint32(14, crc32(data), true);
  lv.setUint32(18, data.length, true);
  lv.setUint32(22, data.length, true);
  lv.setUint16(26, n.length, true);
  const central = new Uint8Array(46);
  const cv = new DataView(central.buffer);
  cv.setUint32(0, 0x02014b50, true);
  cv.setUint16(4, 20, true);
  cv.setUint16(6, 20, true);
  cv.setUint32(16, crc32(data), true);
  cv.setUint32(20, data.length, true);
  cv.setUint32(24, data.length, true);
  cv.setUint16(28, n.length, true);
  const centralAt = 30 + n.length + data.length;
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, 1, true);
  ev.setUint16(10, 1, true);
  ev.setUint32(12, 46 + n.length, true);
  ev.setUint32(16, centralAt, true);
  return concat(local, n, data, central, n, end);
}

function crc32(data: Uint8Array): number {
  let c = ~0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

// ---------------------------------------------------------------------------------------------
// main

const HERE = dirname(fileURLToPath(import.meta.url));
export const HOSTILE_DIR = join(HERE, "..", "test", "hostile");

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const rows = await buildCorpus();
  const names = new Set<string>();
  for (const r of rows) {
    if (names.has(r.file)) throw new Error(`duplicate file name ${r.file}`);
    names.add(r.file);
  }
  const table = `${JSON.stringify(rows.map(({ bytes: _bytes, ...row }) => row), null, 2)}\n`;
  const filesDir = join(HOSTILE_DIR, "files");
  if (check) {
    const stale: string[] = [];
    for (const r of rows) {
      let have: Uint8Array | undefined;
      try {
        have = readFileSync(join(filesDir, r.file));
      } catch {
        have = undefined;
      }
      if (!have || Buffer.compare(Buffer.from(have), Buffer.from(r.bytes)) !== 0) stale.push(r.file);
    }
    if (readFileSync(join(HOSTILE_DIR, "cases.json"), "utf8") !== table) stale.push("cases.json");
    if (stale.length > 0) {
      console.error(`stale hostile corpus (run node --import tsx scripts/make-hostile.ts): ${stale.join(", ")}`);
      process.exit(1);
    }
    console.log(`hostile corpus up to date: ${rows.length} cases`);
    return;
  }
  mkdirSync(filesDir, { recursive: true });
  for (const old of readdirSync(filesDir)) if (!names.has(old)) rmSync(join(filesDir, old));
  for (const r of rows) writeFileSync(join(filesDir, r.file), r.bytes);
  writeFileSync(join(HOSTILE_DIR, "cases.json"), table);
  console.log(`wrote ${rows.length} hostile cases to ${filesDir}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
