import type { Report } from "../src/index.js";
import type { Layout } from "../src/graph/layout.js";
import type { ImageOptions } from "../src/forward/inputs/images.js";

/**
 * Samples to run the model on (the page's "Data (optional)" part): images, or one .npy/.npz of
 * samples; labels from a file or, for images, from their paths; a layout for what the file does
 * not say (a state_dict's activations).
 */
export interface DataRequest {
  /** "images": png/jpg/webp files, decoded a batch at a time; "arrays": one .npy or .npz. */
  kind: "images" | "arrays";
  samples: [string, Blob][];
  /** A .npy of ints or a text column, one label per sample. */
  labels?: [string, Blob];
  /** Images only: each image's label from its folder name or file-name prefix (src/forward/inputs/images.ts labelFromPath). */
  labelsFromPaths?: boolean;
  layout?: Layout;
  image: ImageOptions;
  /** Decode the images in the page even where the worker could (the page's URL has ?decode=page; tests use it). */
  decodeInPage?: boolean;
}

/** The page's answer to a worker's "decode" (a worker without OffscreenCanvas): RGBA pixels, or why not. */
export type DecodeReply = { type: "decoded"; request: number; width: number; height: number; data: Uint8ClampedArray } | { type: "decoded"; request: number; error: string };

/** A model to analyze: every dropped file by its path (the model's siblings among them) and the main one. */
export interface AppRequest {
  id: number;
  main: string;
  files: [string, Blob][];
  data?: DataRequest;
}

export type AppResponse =
  | { id: number; type: "progress"; done: number; total: number; tensor: string; pass?: string }
  /** What the samples become for this model: "450 samples as 8x8 grayscale, 0..1". */
  | { id: number; type: "data"; feed: string }
  /** A worker that cannot decode images asks the page to (answered with a DecodeReply). */
  | { id: number; type: "decode"; request: number; blob: Blob }
  | { id: number; type: "done"; report: Report; html: string }
  | { id: number; type: "error"; code: string; message: string };
