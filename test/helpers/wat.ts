// Reading the release .wat (stack form, as asc prints it) to check that kernels really are SIMD.
import * as assert from "uvu/assert";

/** export name -> function name, from lines like `(export "statsOnly" (func $assembly/moments/statsOnly))`. */
export function exportsOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^\s*\(export "([^"]+)" \(func (\$[^\s()]+)\)\)/gm)) out.set(m[1], m[2]);
  return out;
}

/** Lines of a module-level `(func $name ...)`: from its header to the next module-level item. */
export function bodyOf(text: string, func: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(` (func ${func} `) || l === ` (func ${func}`);
  assert.ok(start >= 0, `no (func ${func} in the .wat`);
  let end = start + 1;
  while (end < lines.length && !/^ \(|^\)/.test(lines[end])) end++;
  return lines.slice(start, end);
}

/** The instructions inside each `loop` ... `end` (stack-form wat: the `end` sits at the loop's indentation). */
export function loopsOf(body: string[]): string[][] {
  const loops: string[][] = [];
  body.forEach((line, i) => {
    const trimmed = line.trimStart();
    if (!/^loop\b/.test(trimmed)) return;
    const indent = line.length - trimmed.length;
    const inner: string[] = [];
    for (let j = i + 1; j < body.length; j++) {
      const t = body[j].trimStart();
      if (body[j].length - t.length === indent && t === "end") break;
      inner.push(t);
    }
    loops.push(inner);
  });
  return loops;
}
