import type { Progress } from "../options.js";

/** What the line says for each pass of a read. */
const PASS_LABEL: Record<NonNullable<Progress["pass"]>, string> = { moments: "reading", histogram: "histogram (2nd read)", copy: "writing", forward: "forward pass" };

/**
 * One progress line on a terminal's stderr, redrawn at most ten times a second once work has
 * taken half a second: percent of all bytes over all passes, the pass and the tensor. `end()`
 * wipes the line, so the report (or an error) starts on a clean line; Ctrl-C calls it too.
 */
export class ProgressLine {
  private readonly start: number;
  private last = 0;
  private shown = false;

  constructor(
    private readonly stream: Pick<NodeJS.WriteStream, "write" | "columns">,
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
  }

  readonly update = (p: Progress): void => {
    const now = this.now();
    if (now - this.start < 500 || (now - this.last < 100 && p.bytesDone < p.bytesTotal)) return;
    this.last = now;
    const pct = p.bytesTotal > 0 ? Math.min(100, (100 * p.bytesDone) / p.bytesTotal).toFixed(1) : "?";
    const mb = (n: number) => (n / 1e6).toFixed(n < 1e7 ? 1 : 0);
    const what = `${p.pass ? `${PASS_LABEL[p.pass]} ` : ""}${p.tensor}`;
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    const line = `${pct.padStart(5)}%  ${mb(p.bytesDone)}/${mb(p.bytesTotal)} MB  ${what}`;
    this.stream.write(`\r${line.slice(0, width).padEnd(width)}`);
    this.shown = true;
  };

  /** Wipe the line if one was drawn (the cursor ends at the start of an empty line). */
  end(): void {
    if (!this.shown) return;
    this.shown = false;
    this.stream.write("\r\x1b[2K");
  }
}
