// Types of agorasig.mjs for TypeScript's module resolution of .mjs files:
// the same declarations as agorasig.d.ts.
export * from "./agorasig.js";
export { default } from "./agorasig.js";
