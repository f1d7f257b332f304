// Peer messages, invoke, user status and attributes, channel queries, and
// the answers of requests with and without a per-request callback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Recorder, acct, join, login, logoutAll, signal } from "./helpers.mjs";

const answer = (fn) => new Promise((resolve) => fn((...args) => resolve(args)));

test("messageInstantSend: cb(null) once the peer has it; the peer gets onMessageInstantReceive", async () => {
  const sig = signal();
  const a = await login(sig, acct("alice"));
  const b = await login(sig, acct("bob"));
  const got = b.rec.wait("onMessageInstantReceive");
  const [err] = await answer((cb) => a.session.messageInstantSend(b.session.account, "hi bob ✓", cb));
  assert.equal(err, null);
  assert.deepEqual(await got, [a.session.account, 0, "hi bob ✓"]);
  // Without a cb, the session's onMessageSendSuccess names the ID.
  const id = a.session.messageInstantSend(b.session.account, "again", undefined, "my-id-1");
  assert.equal(id, "my-id-1");
  assert.deepEqual(await a.rec.wait("onMessageSendSuccess"), ["my-id-1"]);
  assert.equal(a.rec.count("onMessageSendError"), 0);
  await logoutAll(a.session, b.session);
});

test("messageInstantSend to an offline peer: cb({ecode: 400}), exactly once", async () => {
  const a = await login(signal(), acct("alice"));
  const answers = [];
  await new Promise((resolve) => a.session.messageInstantSend(acct("nobody"), "hello?", (err) => {
    answers.push(err);
    resolve();
  }));
  assert.equal(answers[0].ecode, 400);
  assert.equal(answers[0].name, "messageInstantSend");
  // One more round trip: the failure did not come twice.
  await answer((cb) => a.session.queryUserStatus(a.session.account, cb));
  assert.equal(answers.length, 1);
  assert.equal(a.rec.count("onMessageSendError"), 0, "a cb replaces the session callback");
  await logoutAll(a.session);
});

test("a message that times out fails once with 401, and its late answer is dropped", async () => {
  const sig = signal({ messageTimeout: 1 });
  const a = await login(sig, acct("alice"));
  const b = await login(signal(), acct("bob"));
  const answers = [];
  const got = b.rec.wait("onMessageInstantReceive");
  a.session.messageInstantSend(b.session.account, "slow", (err) => answers.push(err));
  await got; // delivered all the same: the edge's answer comes after the SDK gave up
  // A second message, sent after, is answered after the first's late answer.
  const [err2] = await answer((cb) => a.session.messageChannelSendForce(acct("room"), "x", cb));
  assert.ok(err2 === null || err2.ecode === 401);
  await answer((cb) => a.session.invoke("io.agora.signal.user_query_user_status", { account: "x" }, cb));
  assert.equal(answers.length, 1);
  assert.equal(answers[0].ecode, 401);
  assert.equal(a.rec.count("onMessageSendSuccess"), 0);
  await logoutAll(a.session, b.session);
});

test("invoke: cb(null, resp) with the parsed reply; a failure cb(err) with the code; onInvokeRet without cb", async () => {
  const a = await login(signal(), acct("alice"));
  const [err, resp] = await answer((cb) => a.session.invoke("io.agora.signal.user_query_user_status", { account: a.session.account }, cb));
  assert.equal(err, null);
  assert.deepEqual(resp, { status: 1 });
  const [err2] = await answer((cb) => a.session.invoke("io.agora.signal.no_such_function", "{}", cb));
  assert.equal(err2.ecode, 1001);
  assert.ok(err2.desc.length > 0);
  assert.equal(err2.reason, err2.desc);
  const callID = a.session.invoke("io.agora.signal.channel_query_num", { name: acct("empty") });
  const [id, e, r] = await a.rec.wait("onInvokeRet");
  assert.equal(id, callID);
  assert.equal(e, "");
  assert.deepEqual(JSON.parse(r), { num: 0 });
  await logoutAll(a.session);
});

test("queryUserStatus: cb(null, 1 | 0), or onQueryUserStatusResult(name, status)", async () => {
  const a = await login(signal(), acct("alice"));
  const off = acct("off");
  assert.deepEqual(await answer((cb) => a.session.queryUserStatus(a.session.account, cb)), [null, 1]);
  assert.deepEqual(await answer((cb) => a.session.queryUserStatus(off, cb)), [null, 0]);
  a.session.queryUserStatus(off);
  assert.deepEqual(await a.rec.wait("onQueryUserStatusResult"), [off, "0"]);
  // A bad account fails through onError (1004) with the op's name.
  a.session.queryUserStatus("has space");
  const [evt] = await a.rec.wait("onError");
  assert.equal(evt.name, "queryUserStatus");
  assert.equal(evt.ecode, 1004);
  await logoutAll(a.session);
});

test("user attributes: setAttr, getAttr, getAttrAll, getUserAttr, getUserAttrAll", async () => {
  const sig = signal();
  const a = await login(sig, acct("alice"));
  const b = await login(sig, acct("bob"));
  a.session.setAttr("color", "blue");
  a.session.setAttr("size", "10");
  assert.deepEqual(await answer((cb) => a.session.getAttr("color", cb)), [null, "blue"]);
  assert.deepEqual(await answer((cb) => a.session.getAttrAll(cb)), [null, { color: "blue", size: "10" }]);
  assert.deepEqual(await answer((cb) => b.session.getUserAttr(a.session.account, "size", cb)), [null, "10"]);
  assert.deepEqual(await answer((cb) => b.session.getUserAttrAll(a.session.account, cb)), [null, { color: "blue", size: "10" }]);
  // The session callbacks, without cb.
  a.session.getAttr("color");
  assert.deepEqual(await a.rec.wait("onUserAttrResult"), [a.session.account, "color", "blue"]);
  b.session.getUserAttr(a.session.account, "color");
  assert.deepEqual(await b.rec.wait("onUserAttrResult"), [a.session.account, "color", "blue"]);
  a.session.getAttrAll();
  const [acc, json] = await a.rec.wait("onUserAttrAllResult");
  assert.equal(acc, a.session.account);
  assert.deepEqual(JSON.parse(json), { color: "blue", size: "10" });
  b.session.getUserAttrAll(a.session.account);
  await b.rec.wait("onUserAttrAllResult");
  // A reserved name fails with onError 1004.
  a.session.setAttr("_reserved", "x");
  const [evt] = await a.rec.wait("onError");
  assert.deepEqual([evt.name, evt.ecode], ["setAttr", 1004]);
  // And with a cb, a failed getUserAttr is cb(err).
  const [err] = await answer((cb) => b.session.getUserAttr("bad name", "x", cb));
  assert.deepEqual([err.name, err.ecode], ["getUserAttr", 1004]);
  await logoutAll(a.session, b.session);
});

test("channelQueryUserNum and channelQueryUserIsIn, with cb and with the session callbacks", async () => {
  const sig = signal();
  const a = await login(sig, acct("alice"));
  const b = await login(sig, acct("bob"));
  const room = acct("room");
  await join(a.session, a.rec, room);
  assert.deepEqual(await answer((cb) => b.session.channelQueryUserNum(room, cb)), [null, 1]);
  assert.deepEqual(await answer((cb) => b.session.channelQueryUserIsIn(room, a.session.account, cb)), [null, 1]);
  assert.deepEqual(await answer((cb) => b.session.channelQueryUserIsIn(room, b.session.account, cb)), [null, 0]);
  b.session.channelQueryUserNum(room);
  assert.deepEqual(await b.rec.wait("onChannelQueryUserNumResult"), [room, 0, 1]);
  b.session.channelQueryUserIsIn(room, a.session.account);
  assert.deepEqual(await b.rec.wait("onChannelQueryUserIsIn"), [room, a.session.account, 1]);
  const [err, n] = await answer((cb) => b.session.channelQueryUserNum("bad name", cb));
  assert.equal(err.ecode, 1004);
  assert.equal(n, 0);
  await logoutAll(a.session, b.session);
});

test("messageChannelSendForce reaches a channel's members without joining", async () => {
  const sig = signal();
  const a = await login(sig, acct("alice"));
  const b = await login(sig, acct("bob"));
  const room = acct("room");
  await join(b.session, b.rec, room);
  const got = b.rec.wait(room + ":onMessageChannelReceive");
  assert.deepEqual(await answer((cb) => a.session.messageChannelSendForce(room, "from outside", cb)), [null]);
  assert.deepEqual(await got, [a.session.account, 0, "from outside"]);
  await logoutAll(a.session, b.session);
});

test("requests made while logging in wait for the login and then go, in order", async () => {
  const sig = signal();
  const b = await login(sig, acct("bob"));
  const rec = new Recorder();
  const s = sig.login(acct("early"), "_no_need_token");
  const order = [];
  s.onLoginSuccess = () => order.push("login");
  s.messageInstantSend(b.session.account, "first", (err) => order.push(["m1", err]));
  s.messageInstantSend(b.session.account, "second", (err) => {
    order.push(["m2", err]);
    rec.push("done", []);
  });
  await rec.wait("done");
  assert.deepEqual(order, ["login", ["m1", null], ["m2", null]]);
  await b.rec.wait("onMessageInstantReceive", (acc, uid, m) => m === "second");
  const msgs = b.rec.events.filter((e) => e.name === "onMessageInstantReceive").map((e) => e.args[2]);
  assert.deepEqual(msgs, ["first", "second"]);
  await logoutAll(s, b.session);
});

test("requests after the session ended fail at once with 1003", async () => {
  const a = await login(signal(), acct("alice"));
  await logoutAll(a.session);
  const [err] = await answer((cb) => a.session.messageInstantSend("bob", "late", cb));
  assert.equal(err.ecode, 1003);
  a.session.getAttrAll();
  const [evt] = await a.rec.wait("onError");
  assert.deepEqual([evt.name, evt.ecode], ["getAttrAll", 1003]);
});
