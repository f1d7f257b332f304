// The classic-script build is what tools/build.mjs makes of the module, it
// defines the globals AgoraSig and Signal, and the declarations name every
// public method and callback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runInNewContext } from "node:vm";
import * as mod from "../agorasig.mjs";
import { classic, read } from "../tools/build.mjs";

test("agorasig.js is up to date with agorasig.mjs (node sdk/js/tools/build.mjs)", () => {
  assert.ok(read("agorasig.js") === classic(read("agorasig.mjs")), "agorasig.js is out of date: run node sdk/js/tools/build.mjs");
});

test("agorasig.js as a classic script defines AgoraSig and Signal", () => {
  const win = { console, queueMicrotask, setTimeout, clearTimeout, TextEncoder, WebSocket: function () {} };
  win.globalThis = win;
  runInNewContext(read("agorasig.js"), win);
  assert.equal(typeof win.Signal, "function");
  assert.equal(win.AgoraSig.Signal, win.Signal);
  assert.equal(win.AgoraSig.VERSION, mod.VERSION);
  assert.equal(win.Signal("app").getSDKVersion(), "1.4.0");
  assert.throws(() => win.Signal(), { name: "TypeError" });
});

test("agorasig.d.ts declares every public name", () => {
  const dts = read("agorasig.d.ts");
  for (const name of Object.keys(mod)) {
    if (name !== "default") assert.match(dts, new RegExp(`export declare const ${name}\\b`), name);
  }
  for (const cls of ["Signal", "Session", "Channel", "Call"]) {
    const proto = mod[cls].prototype;
    const names = Object.getOwnPropertyNames(proto).filter((n) => !n.startsWith("_") && n !== "constructor");
    assert.ok(names.length > 3, cls);
    for (const n of names) assert.match(dts, new RegExp(`\\b${n}[?]?[(:]`), `${cls}.${n}`);
  }
  for (const n of ["account", "name", "session", "channelName", "peer", "extra", "appId"]) {
    assert.match(dts, new RegExp(`readonly ${n}: `), n);
  }
});
