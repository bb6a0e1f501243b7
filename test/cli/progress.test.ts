// The progress line: silent for quick work, names the pass, always shows the last 100%, and
// leaves a clean line for the report.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ProgressLine } from "../../src/cli/progress.js";

function fakeTerminal() {
  const written: string[] = [];
  return { written, stream: { columns: 60, write: (text: string) => (written.push(text), true) } as never };
}

test("quiet for the first half second, then the pass and tensor; 100% is drawn even inside the 100 ms throttle; end() wipes the line", () => {
  let clock = 1000;
  const { written, stream } = fakeTerminal();
  const line = new ProgressLine(stream, () => clock);
  line.update({ tensor: "fc1.weight", bytesDone: 10, bytesTotal: 100, pass: "moments" });
  assert.equal(written, [], "nothing before 500 ms");
  clock = 1600;
  line.update({ tensor: "fc1.weight", bytesDone: 50, bytesTotal: 100, pass: "histogram" });
  assert.is(written.length, 1);
  assert.match(written[0], /^\r 50\.0%  0\.0\/0\.0 MB  histogram \(2nd read\) fc1\.weight/);
  assert.is(written[0].length, 1 + 59, "padded to the terminal's width so a longer old line is covered");
  clock = 1620;
  line.update({ tensor: "fc2.weight", bytesDone: 60, bytesTotal: 100, pass: "moments" });
  assert.is(written.length, 1, "throttled");
  line.update({ tensor: "fc2.weight", bytesDone: 100, bytesTotal: 100, pass: "moments" });
  assert.match(written[1], /^\r100\.0%/);
  line.end();
  assert.is(written[2], "\r\x1b[2K");
  line.end();
  assert.is(written.length, 3, "end() twice writes once");
});

test("work that ends within half a second draws nothing and end() writes nothing", () => {
  const { written, stream } = fakeTerminal();
  const line = new ProgressLine(stream, () => 5);
  line.update({ tensor: "w", bytesDone: 100, bytesTotal: 100 });
  line.end();
  assert.equal(written, []);
});

test.run();
