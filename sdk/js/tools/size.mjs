// Minifies agorasig.mjs with esbuild (a pinned dev dependency: npm ci
// --prefix sdk/js) into agorasig.min.js and prints its size, plain and
// gzipped: node sdk/js/tools/size.mjs
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { transform } from "esbuild";
import { read, root } from "./build.mjs";

// Properties that begin with _ are the SDK's own: they may be renamed.
const { code } = await transform(read("agorasig.mjs"), { minify: true, treeShaking: true, mangleProps: /^_/, format: "esm", target: "es2020" });
writeFileSync(join(root, "agorasig.min.js"), code);
const gz = gzipSync(code, { level: 9 }).length;
console.log(`agorasig.min.js: ${code.length} bytes minified, ${gz} bytes gzipped (source ${read("agorasig.mjs").length} bytes)`);
