// A dropped connection: the session is resumed within its retry budget,
// nothing is lost or repeated, the app sees onReconnecting and onReconnected
// and no logout, and peers see nothing. And keep-alive on an idle session.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Signal } from "../agorasig.mjs";
import { APP, DRAIN_URLS, FREEZE_URL, PROXY_URL, acct, answer, drainEdge, freeze, join, login, logoutAll, proxyDrop, proxyRefuse, signal } from "./helpers.mjs";

test("a dropped connection is resumed: nothing lost or repeated, no logout, peers see nothing", async () => {
  const alice = await login(Signal(APP, { url: PROXY_URL }), acct("alice"));
  const bob = await login(signal(), acct("bob"));
  const room = acct("room");
  const ca = await join(alice.session, alice.rec, room);
  const cb = await join(bob.session, bob.rec, room);
  const carol = await login(signal(), acct("carol"));
  const cc = await join(carol.session, carol.rec, room);
  const recv = (m) => alice.rec.wait(room + ":onMessageChannelReceive", (acc, uid, msg) => msg === m);
  const send = (m) => answer((done) => cc.messageChannelSend(m, done));

  // 80 messages before the drop, more than one acknowledgement's worth,
  // from two senders (each may send 60 a second).
  for (let i = 0; i < 40; i++) {
    cb.messageChannelSend(`b${i}`);
    cc.messageChannelSend(`c${i}`);
  }
  await recv("b39");
  await recv("c39");

  await proxyRefuse(true);
  await proxyDrop();
  await alice.rec.wait("onReconnecting");
  assert.equal(alice.session.getStatus(), 3);
  // While alice is away: bob's messages are kept for her, and hers wait.
  for (let i = 40; i < 50; i++) assert.deepEqual(await send(`c${i}`), [null]);
  const queued = answer((done) => ca.messageChannelSend("sent while away", done));
  const peerQueued = answer((done) => alice.session.messageInstantSend(bob.session.account, "peer while away", done));
  await proxyRefuse(false);

  await alice.rec.wait("onReconnected");
  assert.equal(alice.session.getStatus(), 2);
  await recv("c49");
  assert.deepEqual(await queued, [null]);
  assert.deepEqual(await peerQueued, [null]);
  await bob.rec.wait(room + ":onMessageChannelReceive", (acc, uid, msg) => msg === "sent while away");
  await bob.rec.wait("onMessageInstantReceive", (acc, uid, msg) => msg === "peer while away");
  // After the resume, peer messages both ways still arrive and are acknowledged.
  assert.deepEqual(await answer((done) => bob.session.messageInstantSend(alice.session.account, "welcome back", done)), [null]);
  await alice.rec.wait("onMessageInstantReceive", (acc, uid, msg) => msg === "welcome back");

  const got = (who) => alice.rec.events.filter((e) => e.name === room + ":onMessageChannelReceive" && e.args[0] === who).map((e) => e.args[2]);
  assert.deepEqual(got(bob.session.account), Array.from({ length: 40 }, (_, i) => `b${i}`), "every message once, in order");
  assert.deepEqual(got(carol.session.account), Array.from({ length: 50 }, (_, i) => `c${i}`), "every message once, in order");
  assert.equal(alice.rec.count("onLogout"), 0);
  assert.equal(alice.rec.count(room + ":onChannelJoined"), 1, "resumed, not logged in again");
  assert.equal(alice.rec.count(room + ":onChannelLeaved"), 0);
  assert.equal(bob.rec.count(room + ":onChannelUserLeaved"), 0, "bob never saw alice leave");
  await logoutAll(alice.session, bob.session, carol.session);
});

test("a connection that cannot come back within the retry budget ends with onLogout(102)", async () => {
  const alice = await login(Signal(APP, { url: PROXY_URL }), acct("alice"), "_no_need_token", 2, 3);
  await proxyRefuse(true);
  try {
    await proxyDrop();
    const [code] = await alice.rec.wait("onLogout");
    assert.equal(code, 102);
    assert.equal(alice.session.getStatus(), 0);
    assert.ok(alice.rec.count("onReconnecting") >= 1);
    assert.equal(alice.rec.count("onReconnected"), 0);
  } finally {
    await proxyRefuse(false);
  }
});

test("an idle session stays up: the SDK probes a silent connection, and nothing breaks", async () => {
  const sig = signal();
  sig.setDoLog(true, "debug");
  const orig = [console.debug, console.info];
  console.debug = console.info = () => {};
  try {
    const a = await login(sig, acct("idle"));
    const b = await login(signal(), acct("peer"));
    const probes = () => a.rec.count("onLog", (l) => l.includes("probing"));
    // Three probes: silence of more than three ping intervals in all.
    await a.rec.wait("onLog", () => probes() >= 3);
    assert.equal(a.rec.count("onReconnecting"), 0);
    assert.equal(a.rec.count("onError"), 0, "the probe's answer is the SDK's own");
    assert.deepEqual(await answer((done) => b.session.messageInstantSend(a.session.account, "still there?", done)), [null]);
    await a.rec.wait("onMessageInstantReceive");
    await logoutAll(a.session, b.session);
  } finally {
    [console.debug, console.info] = orig;
  }
});

test("a session the edge no longer knows is logged in again, its channels joined again, its queued requests sent", async () => {
  const alice = await login(Signal(APP, { url: PROXY_URL }), acct("alice"));
  const bob = await login(signal(), acct("bob"));
  const room = acct("room");
  const ca = await join(alice.session, alice.rec, room);
  const cb = await join(bob.session, bob.rec, room);
  let queued;
  await proxyRefuse(true);
  try {
    await proxyDrop();
    await alice.rec.wait("onReconnecting");
    // A secret the edge does not know: the resume fails (resumeFailed 1003),
    // as it does once the session outlived _conn_timeout.
    alice.session._secret = "A".repeat(43);
    queued = answer((done) => ca.messageChannelSend("after the re-login", done));
  } finally {
    await proxyRefuse(false);
  }
  await alice.rec.wait("onReconnected");
  // Joined again: a fresh onChannelJoined and user list, before the queued message.
  await alice.rec.wait(room + ":onChannelJoined", () => alice.rec.count(room + ":onChannelJoined") === 2);
  assert.deepEqual(await queued, [null]);
  await bob.rec.wait(room + ":onMessageChannelReceive", (acc, uid, m) => m === "after the re-login");
  const back = alice.rec.wait(room + ":onMessageChannelReceive", (acc, uid, m) => m === "to the new session");
  cb.messageChannelSend("to the new session");
  await back;
  assert.equal(alice.rec.count("onLogout"), 0);
  assert.equal(alice.session.getStatus(), 2);
  await logoutAll(alice.session, bob.session);
});

test("a connection that goes silent without closing is noticed by the keep-alive and resumed", async () => {
  const alice = await login(Signal(APP, { url: FREEZE_URL }), acct("alice"));
  const bob = await login(signal(), acct("bob"));
  const room = acct("room");
  await join(alice.session, alice.rec, room);
  const cb = await join(bob.session, bob.rec, room);
  await freeze();
  // The SDK sees nothing arrive, probes, gets no answer, and reconnects.
  await alice.rec.wait("onReconnecting");
  assert.deepEqual(await answer((done) => cb.messageChannelSend("while frozen", done)), [null]);
  await alice.rec.wait("onReconnected");
  await alice.rec.wait(room + ":onMessageChannelReceive", (acc, uid, m) => m === "while frozen");
  assert.equal(alice.rec.count(room + ":onMessageChannelReceive"), 1);
  assert.equal(alice.rec.count("onLogout"), 0);
  assert.equal(bob.rec.count(room + ":onChannelUserLeaved"), 0);
  await logoutAll(alice.session, bob.session);
});

test("an edge that drains sends move: the session moves to the next edge and resumes there", async () => {
  const [first, second] = DRAIN_URLS;
  const alice = await login(Signal(APP, { url: [first, second] }), acct("alice"));
  const bob = await login(Signal(APP, { url: second }), acct("bob"));
  const room = acct("room");
  await join(alice.session, alice.rec, room);
  const cb = await join(bob.session, bob.rec, room);
  await drainEdge();
  await alice.rec.wait("onReconnecting");
  await alice.rec.wait("onReconnected");
  assert.deepEqual(await answer((done) => cb.messageChannelSend("on the other edge", done)), [null]);
  await alice.rec.wait(room + ":onMessageChannelReceive", (acc, uid, m) => m === "on the other edge");
  assert.equal(alice.rec.count("onLogout"), 0);
  assert.equal(alice.rec.count(room + ":onChannelJoined"), 1, "resumed, not logged in again");
  assert.equal(bob.rec.count(room + ":onChannelUserLeaved"), 0);
  await logoutAll(alice.session, bob.session);
});
