// Generates agorasig.js, the classic-script build, from the ES module
// agorasig.mjs: the module's body in a function scope, its one export
// statement replaced by two globals, AgoraSig (every export) and Signal (as
// AgoraSig.js 1.4 defined it). No dependencies.
//
//   node tools/build.mjs          writes agorasig.js
//   node tools/build.mjs --check  fails if agorasig.js is out of date
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// classic turns the module's source into the classic script's.
export function classic(src) {
  const exportRe = /^export \{[^}]*\};\n?/m;
  const all = src.match(/^export\b.*$/gm) || [];
  if (all.length !== 1 || !exportRe.test(src)) {
    throw new Error(`agorasig.mjs must end with one "export { … };" statement and have no other export (found ${all.length})`);
  }
  const body = src.replace(exportRe, "").trimEnd();
  return `// agorasig.js: Switchboard's browser SDK as a classic script. It defines the
// globals AgoraSig (Signal, Session, Channel, Call, VERSION, …) and Signal.
// Generated from agorasig.mjs by tools/build.mjs: do not edit.
(function (root) {
"use strict";
${body}

root.AgoraSig = AgoraSig;
root.Signal = Signal;
})(typeof globalThis !== "undefined" ? globalThis : this);
`;
}

export const read = (name) => readFileSync(join(root, name), "utf8");

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const want = classic(read("agorasig.mjs"));
  if (process.argv.includes("--check")) {
    if (read("agorasig.js") !== want) {
      console.error("sdk/js/agorasig.js is out of date: run node sdk/js/tools/build.mjs");
      process.exit(1);
    }
  } else {
    writeFileSync(join(root, "agorasig.js"), want);
  }
}
