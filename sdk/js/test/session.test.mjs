// Logging in and out, statuses, tokens, kicks, bad input, bad servers, two
// sessions in one process, and exceptions thrown by the app's callbacks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Signal, VERSION, SDK_VERSION_CODE } from "../agorasig.mjs";
import {
  APP, STRICT_APP, URL_, BAD_VERSION_URL, NOT_SWITCHBOARD_URL, Recorder, SESSION_CALLBACKS,
  acct, join, login, logoutAll, signal, token,
} from "./helpers.mjs";

test("login and logout: onLoginSuccess, statuses 1 → 2 → 0, onLogout(101)", async () => {
  const sig = signal();
  const rec = new Recorder();
  const s = sig.login(acct("alice"), "_no_need_token");
  rec.hook(s, SESSION_CALLBACKS);
  assert.equal(s.getStatus(), 1);
  assert.equal(s.state, 1);
  assert.equal(s.isOnline(), false);
  const [uid] = await rec.wait("onLoginSuccess");
  assert.equal(uid, 0);
  assert.equal(s.getStatus(), 2);
  assert.equal(s.isOnline(), true);
  s.logout();
  const [code] = await rec.wait("onLogout");
  assert.equal(code, 101);
  assert.equal(s.getStatus(), 0);
  assert.deepEqual(rec.names(), ["onLoginSuccess", "onLogout"]);
});

test("versions: getSDKVersion is the SDK's, getSdkVersion the API's encoding", () => {
  const sig = signal();
  assert.equal(sig.getSDKVersion(), "1.4.0");
  assert.equal(VERSION, "1.4.0");
  assert.equal(SDK_VERSION_CODE, 1010400000);
  const s = sig.login(acct("v"), "_no_need_token");
  assert.equal(s.getSdkVersion(), 1010400000);
  s.logout();
});

test("Signal works with and without new, and takes a list of URLs", async () => {
  const sig = new Signal(APP, { url: ["  ", URL_] });
  const { session } = await login(sig, acct("new"));
  await logoutAll(session);
});

test("a SignalingToken logs in; an expired one fails with 204, a wrong one with 206", async () => {
  const sig = signal();
  const a = acct("tok");
  const { session } = await login(sig, a, token(a));
  await logoutAll(session);

  for (const [tok, code] of [
    [token(a, Math.floor(Date.now() / 1000) - 60), 204],
    [token(a, undefined, APP, "0".repeat(32)), 206],
  ]) {
    const rec = new Recorder();
    rec.hook(sig.login(a, tok), SESSION_CALLBACKS);
    const [got] = await rec.wait("onLoginFailed");
    assert.equal(got, code);
  }
});

test("_no_need_token on an app that refuses it fails with 206", async () => {
  const rec = new Recorder();
  const s = Signal(STRICT_APP, { url: URL_ }).login(acct("strict"), "_no_need_token");
  rec.hook(s, SESSION_CALLBACKS);
  assert.deepEqual(await rec.wait("onLoginFailed"), [206]);
  assert.equal(s.getStatus(), 0);
});

test("logout while logging in cancels: onLoginFailed(203); logout when logged out: onError(1003)", async () => {
  const rec = new Recorder();
  const s = signal().login(acct("cancel"), "_no_need_token");
  rec.hook(s, SESSION_CALLBACKS);
  s.logout();
  assert.deepEqual(await rec.wait("onLoginFailed"), [203]);
  s.logout();
  const [evt] = await rec.wait("onError");
  assert.equal(evt.name, "logout");
  assert.equal(evt.ecode, 1003);
  assert.equal(rec.count("onLoginSuccess"), 0);
});

test("a second login of the account kicks the first: onLogout(103), status 0, no reconnection", async () => {
  const a = acct("kick");
  const first = await login(signal(), a);
  const ch = await join(first.session, first.rec, acct("room"));
  const second = await login(signal(), a);
  const [code] = await first.rec.wait("onLogout");
  assert.equal(code, 103);
  await first.rec.wait(ch.name + ":onChannelLeaved", (c) => c === 601);
  assert.equal(first.session.getStatus(), 0);
  assert.equal(first.rec.count("onReconnecting"), 0);
  assert.equal(second.session.getStatus(), 2);
  await logoutAll(second.session);
});

test("two sessions in one process are independent", async () => {
  const sig = signal();
  const a = await login(sig, acct("one"));
  const b = await login(sig, acct("two"));
  const got = b.rec.wait("onMessageInstantReceive");
  a.session.messageInstantSend(b.session.account, "hello two");
  assert.deepEqual(await got, [a.session.account, 0, "hello two"]);
  await logoutAll(a.session);
  // b is untouched by a's logout.
  assert.equal(b.session.getStatus(), 2);
  const back = a.rec.count("onMessageInstantReceive");
  assert.equal(back, 0);
  const c = await login(sig, acct("three"));
  const got2 = c.rec.wait("onMessageInstantReceive");
  b.session.messageInstantSend(c.session.account, "still here");
  assert.deepEqual(await got2, [b.session.account, 0, "still here"]);
  await logoutAll(b.session, c.session);
});

test("an exception in a callback goes to onError and the console; later callbacks still run in order", async () => {
  const sig = signal();
  const a = await login(sig, acct("thrower"));
  const b = await login(sig, acct("sender"));
  const seen = [];
  a.session.onMessageInstantReceive = (account, uid, msg) => {
    seen.push(msg);
    if (msg === "boom") throw new Error("app bug");
  };
  const errors = [];
  a.session.onError = (evt) => errors.push(evt);
  const orig = console.error;
  const logged = [];
  console.error = (...args) => logged.push(args.join(" "));
  try {
    for (const m of ["one", "boom", "three"]) b.session.messageInstantSend(a.session.account, m);
    const done = new Recorder();
    b.session.onMessageSendSuccess = (id) => done.push("ok", [id]);
    b.session.messageInstantSend(a.session.account, "four");
    await done.wait("ok", () => true);
    await new Promise((resolve) => {
      const t = setInterval(() => seen.length >= 4 && (clearInterval(t), resolve()), 10);
    });
  } finally {
    console.error = orig;
  }
  assert.deepEqual(seen, ["one", "boom", "three", "four"]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].name, "onMessageInstantReceive");
  assert.equal(errors[0].ecode, 1002);
  assert.match(errors[0].desc, /app bug/);
  assert.ok(logged.some((l) => l.includes("app bug")), "the console got the exception");
  await logoutAll(a.session, b.session);
});

test("bad input throws TypeError at once, naming the argument, and sends nothing", async () => {
  assert.throws(() => Signal(), { name: "TypeError", message: /appId/ });
  assert.throws(() => Signal(APP, { url: 5 }), { name: "TypeError", message: /options\.url/ });
  assert.throws(() => Signal(APP, { url: [] }), { name: "TypeError", message: /url/ });
  const sig = signal();
  assert.throws(() => sig.login(), { name: "TypeError", message: /account/ });
  assert.throws(() => sig.login("a", 5), { name: "TypeError", message: /token/ });
  assert.throws(() => sig.login("a", "t", "10"), { name: "TypeError", message: /reconnectCount/ });
  const { session, rec } = await login(sig, acct("bad"));
  const ch = await join(session, rec, acct("room"));
  const checks = [
    [() => session.messageInstantSend(), /peer/],
    [() => session.messageInstantSend("bob", 7), /msg/],
    [() => session.messageInstantSend("bob", "hi", "not a function"), /cb/],
    [() => session.invoke(), /name/],
    [() => session.invoke("io.agora.signal.user_query_user_status", 5), /args/],
    [() => session.queryUserStatus(null), /account/],
    [() => session.setAttr("n"), /value/],
    [() => session.getAttr(1), /name/],
    [() => session.getUserAttr("a"), /name/],
    [() => session.getUserAttrAll(), /account/],
    [() => session.channelJoin({}), /name/],
    [() => session.channelQueryUserNum(), /channel/],
    [() => session.channelQueryUserIsIn("c"), /account/],
    [() => session.channelInviteUser2("c"), /peer/],
    [() => session.channelInviteUser2("c", "p", 3), /extra/],
    [() => session.messageChannelSendForce("c"), /msg/],
    [() => session.callbackSet(), /handler/],
    [() => ch.messageChannelSend(), /msg/],
    [() => ch.channelSetAttr("k"), /value/],
    [() => ch.channelDelAttr(), /name/],
    [() => ch.channelLeave(42), /cb/],
  ];
  for (const [fn, name] of checks) assert.throws(fn, { name: "TypeError", message: name });
  assert.throws(() => sig.setDoLog(true, {}), { name: "TypeError", message: /level/ });
  // Nothing reached the edge: no answer of any kind came.
  const done = new Promise((resolve) => session.queryUserStatus(session.account, (err, st) => resolve([err, st])));
  assert.deepEqual(await done, [null, 1]);
  const after = rec.names().filter((n) => !n.startsWith(ch.name));
  assert.deepEqual(after, ["onLoginSuccess"]);
  await logoutAll(session);
});

test("a message over 8 KB fails with 1005 through its callback, without a round trip", async () => {
  const { session, rec } = await login(signal(), acct("big"));
  const big = "é".repeat(4097); // 8194 bytes in UTF-8, 4097 characters
  const answers = [];
  const id = session.messageInstantSend("nobody", big, (err) => answers.push(err));
  assert.equal(typeof id, "string");
  assert.deepEqual(answers, [], "the callback runs after the call returns");
  await new Promise((r) => setImmediate(r));
  assert.equal(answers.length, 1);
  assert.equal(answers[0].ecode, 1005);
  // Without a callback it is the session's onMessageSendError.
  const id2 = session.messageInstantSend("nobody", big);
  assert.deepEqual(await rec.wait("onMessageSendError"), [id2, 1005]);
  // Attribute and extra limits too.
  session.setAttr("color", "x".repeat(1025));
  const [evt] = await rec.wait("onError");
  assert.equal(evt.name, "setAttr");
  assert.equal(evt.ecode, 1005);
  const call = session.channelInviteUser2("room", "nobody", "x".repeat(8193));
  const failed = await new Promise((resolve) => (call.onInviteFailed = (extra, code) => resolve(code)));
  assert.equal(failed, 1005);
  await logoutAll(session);
});

test("a server speaking another protocol version: onLoginFailed(205) with a description", async () => {
  const rec = new Recorder();
  const s = Signal(APP, { url: BAD_VERSION_URL }).login(acct("old"), "_no_need_token");
  rec.hook(s, SESSION_CALLBACKS);
  const [code, desc] = await rec.wait("onLoginFailed");
  assert.equal(code, 205);
  assert.match(desc, /protocol version 2/);
  assert.equal(s.getStatus(), 0);
});

test("a WebSocket server that is not Switchboard: onLoginFailed(200) with a description", async () => {
  const rec = new Recorder();
  const s = Signal(APP, { url: NOT_SWITCHBOARD_URL }).login(acct("alien"), "_no_need_token");
  rec.hook(s, SESSION_CALLBACKS);
  const [code, desc] = await rec.wait("onLoginFailed");
  assert.equal(code, 200);
  assert.match(desc, /not a Switchboard edge/);
});

test("no server at the URL: onLoginFailed(201) once the retry budget is spent", async () => {
  const rec = new Recorder();
  // Port 9 (discard) on loopback refuses connections.
  const s = Signal(APP, { url: "ws://127.0.0.1:9/ws" }).login(acct("void"), "_no_need_token", 3, 5);
  rec.hook(s, SESSION_CALLBACKS);
  const [code, desc] = await rec.wait("onLoginFailed");
  assert.equal(code, 201);
  assert.match(desc, /no Switchboard edge answered/);
  assert.equal(rec.count("onLoginFailed"), 1);
});

test("setDoLog sends the SDK's lines to onLog, never the token", async () => {
  const sig = signal();
  sig.setDoLog(true, "debug");
  const orig = console.info;
  console.info = () => {};
  try {
    const a = acct("log");
    const tok = token(a);
    const { session, rec } = await login(sig, a, tok);
    await logoutAll(session);
    const lines = rec.events.filter((e) => e.name === "onLog").map((e) => e.args[0]);
    assert.ok(lines.some((l) => l.includes("connecting to")), lines.join("\n"));
    assert.ok(!lines.some((l) => l.includes(tok.split(":")[3])));
  } finally {
    console.info = orig;
  }
});

test("callbackSet copies a handler's callbacks; callbackGet returns the session", async () => {
  const got = new Recorder();
  const s = signal().login(acct("cbset"), "_no_need_token");
  s.callbackSet({ onLoginSuccess: (uid) => got.push("onLoginSuccess", [uid]), other: 1 });
  assert.equal(s.callbackGet(), s);
  await got.wait("onLoginSuccess");
  await logoutAll(s);
});

test("destroy logs every session of the instance out", async () => {
  const sig = signal();
  const a = await login(sig, acct("d1"));
  const b = await login(sig, acct("d2"));
  sig.destroy();
  assert.deepEqual(await a.rec.wait("onLogout"), [101]);
  assert.deepEqual(await b.rec.wait("onLogout"), [101]);
});
