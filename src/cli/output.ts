/**
 * Everything the CLI prints goes through here, so that it is whole before the process exits:
 * process.exit() drops what a pipe has not taken yet (a report cut at 64 KiB, exit 0), so every
 * write waits for its callback: the next piece is made only when the pipe took the last one.
 */

/** Pieces are gathered to about this many characters before a write: fewer syscalls, bounded memory. */
const GATHER = 64 * 1024;

const guarded = new WeakSet<NodeJS.WriteStream>();

/** The reader of our output went away (`cntscope ... | head`): stop writing, as other tools do. */
export class OutputClosed extends Error {}

/**
 * Write text pieces to a stream, waiting when it is full; resolves when the last write is done.
 * Throws OutputClosed when the reader closed the pipe (EPIPE).
 */
export async function writeAll(stream: NodeJS.WriteStream, pieces: Iterable<string>): Promise<void> {
  let gathered = "";
  for (const piece of pieces) {
    gathered += piece;
    if (gathered.length >= GATHER) {
      await writeOne(stream, gathered);
      gathered = "";
    }
  }
  await writeOne(stream, gathered);
}

/** One line of text (a newline added), whole before the promise resolves. */
export function writeLine(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return writeOne(stream, `${text}\n`);
}

/** Resolves when the stream has handed `text` to the OS (its write callback): nothing is left in our buffers. */
function writeOne(stream: NodeJS.WriteStream, text: string): Promise<void> {
  if (text.length === 0) return Promise.resolve();
  // The write callback gets the error too; without a listener of our own, Node would also throw it as an event.
  if (!guarded.has(stream)) {
    guarded.add(stream);
    stream.on("error", () => undefined);
  }
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => {
      if (!error) return resolve();
      reject((error as NodeJS.ErrnoException).code === "EPIPE" ? new OutputClosed("output closed") : error);
    });
  });
}
