import { CntError, quoteName } from "../errors.js";
import { blobSource } from "./blob.js";
import { memorySource } from "./memory.js";
import { checkRelativePath } from "./paths.js";
import type { ByteSource } from "./types.js";

/**
 * A model made of several files held in memory or as Blobs (a browser's multiple-file input, a
 * worker's form data): `main` names the file to read first (model.json, model.onnx); the others
 * are found by the names the main file gives for them.
 * @example
 *   analyze(filesSource(new Map([["model.json", jsonFile], ["group1-shard1of1.bin", shardFile]]), "model.json"))
 */
export function filesSource(files: Map<string, Blob | ArrayBuffer | ArrayBufferView>, main: string): ByteSource {
  const open = (name: string): ByteSource => {
    const file = files.get(name);
    if (file === undefined) {
      throw new CntError("TRUNCATED", `The model needs the file ${quoteName(name)}, which was not given (given: ${[...files.keys()].map(quoteName).join(", ")}).`, { file: name });
    }
    const source = typeof Blob !== "undefined" && file instanceof Blob ? blobSource(file, name) : memorySource(file as ArrayBuffer, name);
    return {
      ...source,
      async sibling(relativePath: string) {
        const dir = name.includes("/") ? name.slice(0, name.lastIndexOf("/") + 1) : "";
        return open(dir + checkRelativePath(relativePath, name).join("/"));
      },
    };
  };
  return open(main);
}
