// Runs every uvu test file under test/ with tsx and prints the closing line CI reads:
// "N passed, N failed". uvu's own summary counts test files' tests but not this line.
import { spawnSync } from "node:child_process";

const args = ["--import", "tsx", "node_modules/uvu/bin.js", "test", "\\.test\\.ts$", ...process.argv.slice(2)];
const run = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 28 });
process.stdout.write(run.stdout ?? "");
const total = Number(/Total:\s+(\d+)/.exec(run.stdout ?? "")?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(run.stdout ?? "")?.[1] ?? 0);
const failed = total - passed;
const ok = run.status === 0 && total > 0 && failed === 0;
console.log(`${passed} passed, ${ok ? failed : Math.max(failed, 1)} failed`);
process.exit(ok ? 0 : 1);
