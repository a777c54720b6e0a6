// Parses Mermaid diagrams with Mermaid's own parser (no rendering, no browser): the check that
// `ekspec plan --graph mermaid` and the ```mermaid blocks of `--output markdown` are diagrams
// GitHub can draw. Needs the npm packages `mermaid` (11) and `jsdom` (Mermaid wants a DOM):
//
//   npm install --prefix DIR mermaid@11 jsdom
//   node scripts/mermaid-parse.mjs DIR/node_modules FILE...
//
// A Markdown file is checked block by block (each ```mermaid fence). Exit 1 on any error.
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [modules, ...files] = process.argv.slice(2);
if (!modules || files.length === 0) {
  console.error("usage: node scripts/mermaid-parse.mjs NODE_MODULES_DIR FILE...");
  process.exit(2);
}
const load = (pkg, file) => import(pathToFileURL(path.join(modules, pkg, file)).href);
const { JSDOM } = await load("jsdom", "lib/api.js");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await load("mermaid", "dist/mermaid.core.mjs");
mermaid.initialize({ startOnLoad: false });

const diagrams = (file, text) => {
  if (!file.endsWith(".md")) return [text];
  return [...text.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
};
let problems = 0;
let parsed = 0;
for (const file of files) {
  const text = await readFile(file, "utf8");
  for (const diagram of diagrams(file, text)) {
    try {
      await mermaid.parse(diagram);
      parsed += 1;
    } catch (error) {
      problems += 1;
      console.log(`${file}: ${error.message ?? error}`);
    }
  }
}
if (problems > 0) {
  console.error(`mermaid: ${problems} diagram(s) do not parse`);
  process.exit(1);
}
console.log(`mermaid: ${parsed} diagram(s) parse`);
