import { CntError, quoteName } from "../errors.js";
import type { Limits } from "../model/limits.js";
import type { ModelInfo } from "../model/types.js";
import type { ByteSource } from "../source/types.js";
import * as cnt from "./cnt/read.js";
import * as onnx from "./onnx/read.js";
import * as safetensors from "./safetensors/read.js";
import * as safetensorsIndex from "./safetensors/read-index.js";
import * as numpy from "./numpy/read.js";
import * as pytorch from "./pytorch/read.js";
import * as tfjs from "./tfjs/read.js";
import * as keras from "./keras/read.js";
import * as gguf from "./gguf/read.js";

/** Every reader has this shape: detect by content, then open to a verified description. */
export interface FormatReader {
  id: string;
  detect(first: Uint8Array): boolean;
  open(source: ByteSource, limits: Limits): Promise<ModelInfo>;
}

export const READERS: readonly FormatReader[] = [
  { id: "cnt", detect: cnt.detectCnt, open: cnt.openCnt },
  // Before safetensors: "GGUF" + version read as a u64 is a plausible header length, and a tensor count of 123 or 91 puts '{' or '[' at byte 8.
  { id: "gguf", detect: gguf.detect, open: gguf.open },
  { id: "safetensors", detect: safetensors.detect, open: safetensors.open },
  { id: "npy", detect: numpy.detectNpy, open: numpy.openNpy },
  // Before npz: a zip whose first entry is data.pkl, or whose first name is cut off (open() hands a zip of .npy entries to the npz reader).
  { id: "pytorch", detect: pytorch.detect, open: pytorch.open },
  { id: "npz", detect: numpy.detectNpz, open: numpy.openNpz },
  { id: "keras", detect: keras.detect, open: keras.open },
  { id: "keras-h5", detect: keras.detectH5, open: keras.openH5 },
  { id: "tfjs", detect: tfjs.detect, open: tfjs.open },
  { id: "safetensors-index", detect: safetensorsIndex.detect, open: safetensorsIndex.open },
  { id: "onnx", detect: onnx.detect, open: onnx.open },
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
