import { realpath } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { CntError, quoteName } from "../errors.js";
import { openedFile, type OpenedFile } from "./opened-file.js";
import { openSibling, type SiblingPolicy } from "./sibling.js";
import type { ByteSource } from "../source/types.js";

/**
 * Idle sibling files kept open at most. A TF.js model has a shard file every 4 MB (33 for 134 MB)
 * and its reader opens each for its size before the tensor passes read them: keeping them all
 * open between the two is what makes each shard open once. Past this many, the idle file used
 * longest ago is closed (and opened again if asked for). Idle files hold no buffer, only a handle.
 */
export const MAX_IDLE_SIBLINGS = 64;

interface Entry {
  opening: Promise<OpenedFile & { real: string }>;
  /** Leases not closed yet: an entry with leases is never closed before the owner is. */
  leases: number;
}

/**
 * The sibling files of one model file, owned by its fileSource and closed with it (at the end
 * of an analysis, also when it fails or is aborted). `lease(name)` gives a ByteSource of the
 * file, opened on first use and shared afterwards; closing a lease leaves the file open, idle,
 * for the next one. An open that fails is not remembered (the next lease tries again and fails
 * with the same typed error naming the file).
 * @example
 *   const siblings = new SiblingHandles("model.json", {});
 *   const shard = await siblings.lease("group1-shard1of2.bin"); await shard.readInto(0, bytes); await shard.close();
 *   await siblings.close();
 */
export class SiblingHandles {
  private readonly entries = new Map<string, Entry>();
  private folder: Promise<string> | undefined;
  private closed = false;

  constructor(
    private readonly modelPath: string,
    private readonly policy: SiblingPolicy,
    private readonly maxIdle = MAX_IDLE_SIBLINGS,
  ) {}

  async lease(relativePath: string): Promise<ByteSource> {
    if (this.closed) throw this.closedError(relativePath);
    let entry = this.entries.get(relativePath);
    if (!entry) {
      entry = { opening: this.open(relativePath), leases: 0 };
      this.entries.set(relativePath, entry);
    }
    entry.leases++;
    let file: OpenedFile & { real: string };
    try {
      file = await entry.opening;
    } catch (error) {
      entry.leases--;
      if (this.entries.get(relativePath) === entry) this.entries.delete(relativePath);
      throw error;
    }
    if (this.closed) {
      // The owner closed while this open was in flight: close() takes care of the handle.
      entry.leases--;
      throw this.closedError(relativePath);
    }
    let released = false;
    const { source } = file;
    return {
      name: source.name,
      size: source.size,
      randomAccess: true,
      readInto: (offset, dest) => (released ? Promise.reject(this.closedError(relativePath)) : source.readInto(offset, dest)),
      close: async () => {
        if (released) return;
        released = true;
        await this.release(relativePath, entry);
      },
      // A sibling's own siblings (no format asks for them yet): opened from its folder, each on its own.
      sibling: async (name) => {
        const other = await openSibling(file.real, name, dirname(file.real), this.policy);
        return openedFile(basename(other.real), other.handle, other.stat.size).source;
      },
    };
  }

  /** Close every file, leased or idle, all at once (the end of an analysis waits for none in turn); later leases fail. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.entries.values()];
    this.entries.clear();
    const closing = entries.map(async (entry) => {
      let file: OpenedFile;
      try {
        file = await entry.opening;
      } catch {
        return; // an open that failed has nothing to close
      }
      await file.source.close();
    });
    // Every file is closed before a failure to close one is reported.
    const failed = (await Promise.allSettled(closing)).find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private async open(relativePath: string): Promise<OpenedFile & { real: string }> {
    this.folder ??= realpath(dirname(this.modelPath));
    const folder = await this.folder.catch((error) => {
      this.folder = undefined;
      throw new CntError("NOT_FOUND", `The folder of ${quoteName(this.modelPath)} cannot be resolved (${(error as Error).message}).`, { file: this.modelPath, cause: error });
    });
    const { real, handle, stat } = await openSibling(this.modelPath, relativePath, folder, this.policy);
    return { ...openedFile(basename(real), handle, stat.size), real };
  }

  /** A lease was closed: the file stays open, idle; past maxIdle idle files, the one idle longest is closed (before the lease's close settles). */
  private async release(relativePath: string, entry: Entry): Promise<void> {
    entry.leases--;
    if (entry.leases > 0 || this.entries.get(relativePath) !== entry) return;
    // Map order is the order of last release: move this entry to the end.
    this.entries.delete(relativePath);
    this.entries.set(relativePath, entry);
    void entry.opening.then((file) => file.dropWindow(), () => undefined);
    let idle = 0;
    for (const e of this.entries.values()) if (e.leases === 0) idle++;
    const evicted: Entry[] = [];
    for (const [name, e] of this.entries) {
      if (idle <= this.maxIdle) break;
      if (e.leases > 0) continue;
      this.entries.delete(name);
      evicted.push(e);
      idle--;
    }
    // A file that fails to close here has been read already; nothing is lost.
    await Promise.all(evicted.map((e) => e.opening.then((file) => file.source.close()).catch(() => undefined)));
  }

  private closedError(relativePath: string): CntError {
    return new CntError("INTERNAL", `${quoteName(relativePath)} (beside ${quoteName(this.modelPath)}) was asked for after the model's file was closed.`, { file: this.modelPath });
  }
}
