import type { ByteSource } from "../source/types.js";
import type { Kernels } from "../kernels/kernels.js";

/** One read of a pass: `bytes` at `offset` of the source. */
export interface BlockRead {
  offset: number;
  bytes: number;
}

/**
 * Reads a pass's blocks, in the order the pass will use them, into two buffers of linear memory
 * in turn: while the kernels work on one block, the next one is being read (for a file, by
 * libuv's thread pool, on another core). The pass asks for block i + 1 only when it is done with
 * block i, so the buffer block i + 2 goes into is free by then.
 */
export class ReadAhead {
  private pending: Promise<void> | undefined;
  private turn = 0;

  constructor(
    private readonly kernels: Kernels,
    private readonly source: ByteSource,
    private readonly buffers: [number, number],
    private readonly reads: Iterator<BlockRead>,
  ) {
    this.pending = this.start();
  }

  /** The next block, read: its offset in linear memory. Starts reading the one after it. */
  async next(): Promise<number> {
    const at = this.buffers[this.turn & 1];
    if (this.pending === undefined) throw new Error("ReadAhead: no block left to read");
    await this.pending;
    this.turn++;
    this.pending = this.start();
    return at;
  }

  /** Wait for a read still in flight (a pass that ended early); its failure no longer matters. */
  async close(): Promise<void> {
    await this.pending?.catch(() => undefined);
    this.pending = undefined;
  }

  private start(): Promise<void> | undefined {
    const read = this.reads.next();
    if (read.done) return undefined;
    const dest = this.kernels.bytes(this.buffers[this.turn & 1], read.value.bytes);
    const reading = this.source.readInto(read.value.offset, dest);
    // Failures surface when the block is asked for; until then, do not report them as unhandled.
    reading.catch(() => undefined);
    return reading;
  }
}
