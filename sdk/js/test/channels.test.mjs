// Channels: joining (the user list, the joiner included, and attributes),
// messages, attributes with their callbacks, leaving, and the special
// channels through channelJoin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { answer, CHANNEL_CALLBACKS, acct, join, login, logoutAll, pair, pairInRoom, signal } from "./helpers.mjs";


test("channelJoin: onChannelJoined, onChannelUserList with the joiner, the attributes; others get onChannelUserJoined", async () => {
  const { a, b } = await pair();
  const room = acct("room");
  const cb = await join(b.session, b.rec, room);
  assert.equal(cb.name, room);
  assert.equal(cb.session, b.session);
  assert.deepEqual(b.rec.names().slice(1), [
    room + ":onChannelJoined", room + ":onChannelUserList", room + ":onChannelAttrUpdated",
  ]);
  assert.deepEqual(b.rec.find(room + ":onChannelUserList").args, [[[b.session.account, 0]], 1]);
  await answer((done) => cb.channelSetAttr("topic", "go", done));
  const ca = await join(a.session, a.rec, room);
  await a.rec.wait(room + ":onChannelAttrUpdated", (k) => k === "topic");
  const joined = a.rec.events.filter((e) => e.name.startsWith(room + ":"));
  assert.deepEqual(joined.map((e) => [e.name.slice(room.length + 1), ...e.args]), [
    ["onChannelJoined"],
    ["onChannelUserList", [[b.session.account, 0], [a.session.account, 0]], 2],
    ["onChannelAttrUpdated", "_member_num", "2", "update"],
    ["onChannelAttrUpdated", "topic", "go", "update"],
  ]);
  assert.deepEqual(await b.rec.wait(room + ":onChannelUserJoined"), [a.session.account, 0]);
  assert.equal(ca.name, room);
  await logoutAll(a.session, b.session);
});

test("messageChannelSend: cb(null), every other member gets onMessageChannelReceive, in order, not the sender", async () => {
  const { a, b, room, ca } = await pairInRoom();
  const sent = [];
  for (let i = 0; i < 20; i++) ca.messageChannelSend(`m${i}`, (err) => sent.push(err));
  await b.rec.wait(room + ":onMessageChannelReceive", (acc, uid, m) => m === "m19");
  const got = b.rec.events.filter((e) => e.name === room + ":onMessageChannelReceive").map((e) => e.args);
  assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => [a.session.account, 0, `m${i}`]));
  await answer((done) => a.session.queryUserStatus(a.session.account, done));
  assert.deepEqual(sent, Array(20).fill(null));
  assert.equal(a.rec.count(room + ":onMessageChannelReceive"), 0);
  // Without a cb, the session's onMessageSendSuccess.
  const id = ca.messageChannelSend("no cb");
  assert.deepEqual(await a.rec.wait("onMessageSendSuccess"), [id]);
  await logoutAll(a.session, b.session);
});

test("channel attributes: set, del and clear call back and reach every member; a failure is cb(err)", async () => {
  const { a, b, room, ca } = await pairInRoom();
  assert.deepEqual(await answer((done) => ca.channelSetAttr("topic", "hello", done)), [null]);
  assert.deepEqual(await b.rec.wait(room + ":onChannelAttrUpdated", (k) => k === "topic"), ["topic", "hello", "update"]);
  assert.deepEqual(await answer((done) => ca.channelDelAttr("topic", done)), [null]);
  assert.deepEqual(await b.rec.wait(room + ":onChannelAttrUpdated", (k, v, t) => t === "del"), ["topic", "", "del"]);
  assert.deepEqual(await answer((done) => ca.channelClearAttr(done)), [null]);
  assert.deepEqual(await b.rec.wait(room + ":onChannelAttrUpdated", (k, v, t) => t === "clear"), ["", "", "clear"]);
  // The writer's own channel callback runs too.
  assert.ok(a.rec.find(room + ":onChannelAttrUpdated", (k, v, t) => t === "clear"));
  // Read-only _member_num: 1001, through the cb.
  const [err] = await answer((done) => ca.channelSetAttr("_member_num", "5", done));
  assert.deepEqual([err.name, err.ecode], ["channelSetAttr", 1001]);
  // Without a cb: onError.
  ca.channelSetAttr("_member_num", "5");
  const [evt] = await a.rec.wait("onError");
  assert.deepEqual([evt.name, evt.ecode], ["channelSetAttr", 1001]);
  // Over 8096 bytes: 1005 without a round trip.
  const [big] = await answer((done) => ca.channelSetAttr("k", "x".repeat(8097), done));
  assert.equal(big.ecode, 1005);
  await logoutAll(a.session, b.session);
});

test("channelLeave: cb(null) and onChannelLeaved(602); the others get onChannelUserLeaved", async () => {
  const { a, b, room, ca } = await pairInRoom();
  assert.deepEqual(await answer((done) => ca.channelLeave(done)), [null]);
  assert.deepEqual(await a.rec.wait(room + ":onChannelLeaved"), [602]);
  assert.deepEqual(await b.rec.wait(room + ":onChannelUserLeaved"), [a.session.account, 0]);
  // Logging out leaves with 603.
  b.session.logout();
  assert.deepEqual(await b.rec.wait(room + ":onChannelLeaved"), [603]);
  await b.rec.wait("onLogout");
  const names = b.rec.names();
  assert.ok(names.indexOf(room + ":onChannelLeaved") < names.indexOf("onLogout"));
  await logoutAll(a.session);
});

test("a bad channel name fails the join: onChannelJoinFailed(1004)", async () => {
  const a = await login(signal(), acct("alice"));
  const ch = a.session.channelJoin("has space");
  const failed = new Promise((resolve) => (ch.onChannelJoinFailed = resolve));
  assert.equal(await failed, 1004);
  await logoutAll(a.session);
});

test("_agora_user_online through channelJoin shows who logs in and out", async () => {
  const sig = signal();
  const watcher = await login(sig, acct("watcher"));
  const online = watcher.session.channelJoin("_agora_user_online");
  watcher.rec.hook(online, CHANNEL_CALLBACKS, "online:");
  await watcher.rec.wait("online:onChannelJoined");
  await watcher.rec.wait("online:onChannelUserList");
  const c = await login(sig, acct("carol"));
  assert.deepEqual(await watcher.rec.wait("online:onChannelUserJoined", (acc) => acc === c.session.account), [c.session.account, 0]);
  await logoutAll(c.session);
  assert.deepEqual(await watcher.rec.wait("online:onChannelUserLeaved", (acc) => acc === c.session.account), [c.session.account, 0]);
  await logoutAll(watcher.session);
});

test("_agora_channel_event through channelJoin tells of joins anywhere", async () => {
  const sig = signal();
  const watcher = await login(sig, acct("watcher"));
  const events = watcher.session.channelJoin("_agora_channel_event");
  watcher.rec.hook(events, CHANNEL_CALLBACKS, "ev:");
  await watcher.rec.wait("ev:onChannelJoined");
  const d = await login(sig, acct("dave"));
  const room = acct("room");
  await join(d.session, d.rec, room);
  const [account, uid, msg] = await watcher.rec.wait("ev:onMessageChannelReceive", (acc) => acc === d.session.account);
  assert.equal(account, d.session.account);
  assert.equal(uid, 0);
  assert.deepEqual(JSON.parse(msg), { event: "join", channel: room, account: d.session.account });
  await logoutAll(watcher.session, d.session);
});
