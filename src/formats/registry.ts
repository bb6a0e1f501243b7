import { CntError, quoteName } from "../errors.js";
import type { Limits } from "../model/limits.js";
import type { ModelInfo } from "../model/types.js";
import type { ByteSource } from "../source/types.js";
import * as detect from "./detect.js";

/** Every reader has this shape: detect by content, then open to a verified description. */
export interface FormatReader {
  id: string;
  detect(first: Uint8Array): boolean;
  open(source: ByteSource, limits: Limits): Promise<ModelInfo>;
}

/**
 * A reader whose module is imported when its format is opened, not before: detection runs on
 * every file (./detect.ts, no reader imported), and a run then loads the one reader it needs
 * instead of all eleven (their parsers, FlatBuffers, zip and HDF5 code are most of the library).
 */
function lazy<M>(id: string, detectFn: (first: Uint8Array) => boolean, load: () => Promise<M>, pick: (m: M) => FormatReader["open"]): FormatReader {
  return { id, detect: detectFn, open: async (source, limits) => pick(await load())(source, limits) };
}

export const READERS: readonly FormatReader[] = [
  lazy("cnt", detect.detectCnt, () => import("./cnt/read.js"), (m) => m.openCnt),
  // Before safetensors: "GGUF" + version read as a u64 is a plausible header length, and a tensor count of 123 or 91 puts '{' or '[' at byte 8.
  lazy("gguf", detect.detectGguf, () => import("./gguf/read.js"), (m) => m.open),
  lazy("safetensors", detect.detectSafetensors, () => import("./safetensors/read.js"), (m) => m.open),
  lazy("npy", detect.detectNpy, () => import("./numpy/read.js"), (m) => m.openNpy),
  // Before npz: a zip whose first entry is data.pkl, or whose first name is cut off (open() hands a zip of .npy entries to the npz reader).
  lazy("pytorch", detect.detectPytorch, () => import("./pytorch/read.js"), (m) => m.open),
  lazy("npz", detect.detectNpz, () => import("./numpy/read.js"), (m) => m.openNpz),
  lazy("keras", detect.detectKeras, () => import("./keras/read.js"), (m) => m.open),
  lazy("keras-h5", detect.detectH5, () => import("./keras/read.js"), (m) => m.openH5),
  lazy("tfjs", detect.detectTfjs, () => import("./tfjs/read.js"), (m) => m.open),
  lazy("safetensors-index", detect.detectSafetensorsIndex, () => import("./safetensors/read-index.js"), (m) => m.open),
  lazy("onnx", detect.detectOnnx, () => import("./onnx/read.js"), (m) => m.open),
];

/** Bytes read to recognise a format. */
export const DETECT_BYTES = 64;

/** The smallest file any reader accepts (a safetensors file whose header is `{}`): below it, an unrecognised file is called truncated. */
const MIN_MODEL_BYTES = 10;

/** Pick the reader by the first bytes; say what the bytes look like when no reader fits. */
export function detectFormat(first: Uint8Array, file: string): FormatReader {
  if (first.byteLength === 0) throw new CntError("TRUNCATED", `${quoteName(file)} is empty.`, { file, expected: 1, actual: 0 });
  for (const reader of READERS) if (reader.detect(first)) return reader;
  const looks = describeBytes(first);
  if (looks.code === "UNSUPPORTED_FORMAT") throw new CntError("UNSUPPORTED_FORMAT", `${quoteName(file)} looks like ${looks.what}; cntscope never runs code from a model file. Convert it to safetensors or ONNX first.`, { file });
  if (looks.unknown && first.byteLength < MIN_MODEL_BYTES) {
    throw new CntError("TRUNCATED", `${quoteName(file)} has ${first.byteLength} bytes, fewer than the ${MIN_MODEL_BYTES} of the smallest model file cntscope reads; the file is truncated or not a model.`, { file, expected: MIN_MODEL_BYTES, actual: first.byteLength });
  }
  throw new CntError("BAD_MAGIC", `${quoteName(file)} is not a model cntscope reads (${READERS.map((r) => r.id).join(", ")}); its first bytes look like ${looks.what}.`, { file });
}

function describeBytes(first: Uint8Array): { what: string; code?: "UNSUPPORTED_FORMAT"; unknown?: true } {
  const text = new TextDecoder("latin1").decode(first);
  // A stream of unknown size shows only its first 16 bytes: "version https://" is enough.
  if (text.startsWith("version https://")) return { what: "a Git LFS pointer (fetch the real file with git lfs pull)" };
  if (/^\s*<(!doctype|html|\?xml)/i.test(text)) return { what: "an HTML or XML page (a download that returned an error page?)" };
  if (/^\s*[{[]/.test(text)) return { what: "JSON text" };
  if (first[0] === 0x80 && first[1] >= 2 && first[1] <= 5) return { what: "a Python pickle", code: "UNSUPPORTED_FORMAT" };
  if (text.startsWith("PK\x03\x04")) return { what: "a zip archive that is neither a .npz of arrays nor a PyTorch checkpoint (whose first entry is <archive>/data.pkl)" };
  const hex = Array.from(first.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return { what: `binary data starting ${hex}`, unknown: true };
}
