// What ships: the docs the README and --help point to, the licence, the types of every subpath.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

const packed = (() => {
  const run = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`npm pack failed: ${run.stderr}`);
  return new Set((JSON.parse(run.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path));
})();

/** Relative link targets of a markdown file: [text](target), without #anchors; web links left out. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1].split("#")[0]).filter((t) => t !== "" && !/^[a-z]+:/i.test(t));
}

test("every relative link in the README resolves in a clone and in the tarball", () => {
  const links = relativeLinks(readFileSync("README.md", "utf8"));
  assert.ok(links.includes("docs/metrics.md") && links.includes("docs/report.md"), "the README links the shipped docs");
  for (const link of links) {
    assert.ok(existsSync(link), `${link} exists in the repository`);
    assert.ok(packed.has(normalize(link)), `${link} is in the package`);
  }
});

test("the docs, the licence and the wasm files ship; --help names the docs it ships", () => {
  for (const file of ["docs/metrics.md", "docs/report.md", "LICENSE", "README.md", "types/cntscope.wasm.d.ts", "dist/cntscope.wasm", "dist/bin/cntscope.js"]) assert.ok(packed.has(file), file);
  for (const doc of ["docs/metrics.md", "docs/report.md"]) {
    const text = readFileSync(doc, "utf8");
    for (const link of relativeLinks(text)) assert.ok(existsSync(join(dirname(doc), link)), `${doc} links ${link}`);
  }
  const help = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "--help"], { encoding: "utf8" }).stdout;
  for (const doc of help.match(/docs\/[a-z-]+\.md/g) ?? []) assert.ok(packed.has(doc), `--help names ${doc}`);
  const pkg = JSON.parse(readFileSync("package.json", "utf8"));
  for (const field of ["repository", "homepage", "keywords", "license"]) assert.ok(pkg[field], field);
});

test("`import wasm from \"cntscope/cntscope.wasm\"` type-checks as a WebAssembly.Module, as the README shows", () => {
  const dir = mkdtempSync(join(tmpdir(), "cntscope-types-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(resolve("."), join(dir, "node_modules", "cntscope"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(dir, "edge.ts"), 'import wasm from "cntscope/cntscope.wasm";\nimport { init } from "cntscope";\nconst module: WebAssembly.Module = wasm;\nawait init(module);\n');
  writeFileSync(join(dir, "bad.ts"), 'import wasm from "cntscope/cntscope.wasm";\nconst n: number = wasm;\nexport {};\n');
  const tsc = (file: string) => spawnSync(process.execPath, [resolve("node_modules/typescript/bin/tsc"), "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--lib", "es2022,dom", "--types", "node", "--typeRoots", resolve("node_modules/@types"), file], { cwd: dir, encoding: "utf8" });
  const good = tsc("edge.ts");
  assert.is(good.status, 0, good.stdout + good.stderr);
  const bad = tsc("bad.ts");
  assert.is(bad.status, 2, "a wrong use is a type error, so the check is real");
  assert.match(bad.stdout, /WebAssembly\.Module.*not assignable to type 'number'|Type 'Module' is not assignable/);
});

test.run();
