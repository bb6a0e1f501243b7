import type { Report } from "../src/index.js";

/** A model to analyze: every dropped file by its path (the model's siblings among them) and the main one. */
export interface AppRequest {
  id: number;
  main: string;
  files: [string, Blob][];
}

export type AppResponse =
  | { id: number; type: "progress"; done: number; total: number; tensor: string }
  | { id: number; type: "done"; report: Report; html: string }
  | { id: number; type: "error"; code: string; message: string };
