import type { ByteSource } from "../source/types.js";
import type { Kernels } from "../kernels/kernels.js";

/** One read of a pass: `bytes` at `offset` of the source. */
export interface BlockRead {
  offset: number;
  bytes: number;
}

/**
 * Where each block goes in linear memory: two buffers taken in turn, or a place of its own for
 * every block (`at(read)`: a tensor held whole for a second pass, src/measure/measure.ts).
 */
export type BlockPlaces = [number, number] | { at: (read: BlockRead) => number };

/** A pass's blocks in order, each read into linear memory when asked for (runBand's file input): `next()` gives its offset there. */
export interface BlockReader {
  next(): number | Promise<number>;
  /** Wait for a read still in flight, if any (a pass that ended early). */
  close(): Promise<void>;
}

function placeOf(places: BlockPlaces, turn: number, read: BlockRead): number {
  return Array.isArray(places) ? places[turn & 1] : places.at(read);
}

/**
 * Reads a pass's blocks, in the order the pass will use them, into linear memory: while the
 * kernels work on one block, the next one is being read (for a file, by libuv's thread pool, on
 * another core). With two buffers taken in turn, the pass asks for block i + 1 only when it is
 * done with block i, so the buffer block i + 2 goes into is free by then.
 */
export class ReadAhead implements BlockReader {
  private pending: { at: number; offset: number; reading: Promise<void> } | undefined;
  private turn = 0;

  constructor(
    private readonly kernels: Kernels,
    private readonly source: ByteSource,
    private readonly places: BlockPlaces,
    private readonly reads: Iterator<BlockRead>,
  ) {
    this.pending = this.start();
  }

  /** The next block, read: its offset in linear memory. Starts reading the one after it. */
  async next(): Promise<number> {
    if (this.pending === undefined) throw new Error("ReadAhead: no block left to read");
    const { at, reading } = this.pending;
    await reading;
    this.turn++;
    this.pending = this.start();
    return at;
  }

  /**
   * Wait until every read that starts before source offset `end` is done, starting each next one
   * as the one before it is done (one read ahead of the consumer). For reads into places of their
   * own that do not follow the blocks (pieceReads in src/measure/tensor-pass.ts): the consumer
   * asks for the end of the block it is about to work on.
   */
  async through(end: number): Promise<void> {
    while (this.pending !== undefined && this.pending.offset < end) await this.next();
  }

  /** Wait for a read still in flight (a pass that ended early); its failure no longer matters. */
  async close(): Promise<void> {
    await this.pending?.reading.catch(() => undefined);
    this.pending = undefined;
  }

  private start(): { at: number; offset: number; reading: Promise<void> } | undefined {
    const read = this.reads.next();
    if (read.done) return undefined;
    const at = placeOf(this.places, this.turn, read.value);
    const reading = this.source.readInto(read.value.offset, this.kernels.bytes(at, read.value.bytes));
    // Failures surface when the block is asked for; until then, do not report them as unhandled.
    reading.catch(() => undefined);
    return { at, offset: read.value.offset, reading };
  }
}

/**
 * Reads a pass's blocks in the calling thread, each when it is asked for, with a blocking read
 * (`read` fills `dest` from the source at `offset`). For a worker thread of a pool whose threads
 * already keep every core busy (src/node/band-worker.ts): a read handed to another thread would
 * only take a core from a worker and add two wake-ups per block, and the block read here is in
 * this core's cache when the kernels run over it.
 */
export class SyncReads implements BlockReader {
  private turn = 0;

  constructor(
    private readonly kernels: Kernels,
    private readonly read: (offset: number, dest: Uint8Array) => void,
    private readonly places: BlockPlaces,
    private readonly reads: Iterator<BlockRead>,
  ) {}

  next(): number {
    const read = this.reads.next();
    if (read.done) throw new Error("SyncReads: no block left to read");
    const at = placeOf(this.places, this.turn++, read.value);
    this.read(read.value.offset, this.kernels.bytes(at, read.value.bytes));
    return at;
  }

  async close(): Promise<void> {}
}
