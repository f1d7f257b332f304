// Call invitations: invite, ring, accept, end, refuse, cancel, failures,
// and the phone and DTMF calls that need a SIP gateway.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CALL_CALLBACKS, Recorder, acct, logoutAll, pair } from "./helpers.mjs";

test("invite, accept and end: every callback on both sides, each given extra", async () => {
  const { a, b } = await pair();
  const room = acct("call");
  const call = a.session.channelInviteUser2(room, b.session.account, '{"ring":"classic"}');
  assert.equal(call.channelName, room);
  assert.equal(call.peer, b.session.account);
  a.rec.hook(call, CALL_CALLBACKS, "out:");
  const [incoming] = await b.rec.wait("onInviteReceived");
  assert.equal(incoming.channelName, room);
  assert.equal(incoming.peer, a.session.account);
  assert.equal(incoming.extra, '{"ring":"classic"}');
  b.rec.hook(incoming, CALL_CALLBACKS, "in:");
  await a.rec.wait("out:onInviteReceivedByPeer");
  incoming.channelInviteAccept('{"ok":1}');
  assert.deepEqual(await a.rec.wait("out:onInviteAcceptedByPeer"), ['{"ok":1}']);
  call.channelInviteEnd();
  await a.rec.wait("out:onInviteEndByMyself");
  await b.rec.wait("in:onInviteEndByPeer");
  assert.deepEqual(a.rec.names().filter((n) => n.startsWith("out:")), [
    "out:onInviteReceivedByPeer", "out:onInviteAcceptedByPeer", "out:onInviteEndByMyself",
  ]);
  await logoutAll(a.session, b.session);
});

test("the callee ends an accepted call: onInviteEndByPeer at the caller", async () => {
  const { a, b } = await pair();
  const call = a.session.channelInviteUser(acct("call"), b.session.account);
  a.rec.hook(call, CALL_CALLBACKS, "out:");
  const [incoming] = await b.rec.wait("onInviteReceived");
  b.rec.hook(incoming, CALL_CALLBACKS, "in:");
  incoming.channelInviteAccept();
  await a.rec.wait("out:onInviteAcceptedByPeer");
  incoming.channelInviteEnd();
  await b.rec.wait("in:onInviteEndByMyself");
  await a.rec.wait("out:onInviteEndByPeer");
  await logoutAll(a.session, b.session);
});

test("refuse: onInviteRefusedByPeer(extra) at the caller", async () => {
  const { a, b } = await pair();
  const call = a.session.channelInviteUser2(acct("call"), b.session.account, "");
  a.rec.hook(call, CALL_CALLBACKS, "out:");
  const [incoming] = await b.rec.wait("onInviteReceived");
  incoming.channelInviteRefuse('{"why":"busy"}');
  assert.deepEqual(await a.rec.wait("out:onInviteRefusedByPeer"), ['{"why":"busy"}']);
  await logoutAll(a.session, b.session);
});

test("the caller cancels before an answer: the callee gets onInviteEndByPeer", async () => {
  const { a, b } = await pair();
  const call = a.session.channelInviteUser2(acct("call"), b.session.account, "");
  a.rec.hook(call, CALL_CALLBACKS, "out:");
  const [incoming] = await b.rec.wait("onInviteReceived");
  b.rec.hook(incoming, CALL_CALLBACKS, "in:");
  await a.rec.wait("out:onInviteReceivedByPeer");
  call.channelInviteEnd();
  await a.rec.wait("out:onInviteEndByMyself");
  await b.rec.wait("in:onInviteEndByPeer");
  await logoutAll(a.session, b.session);
});

test("an offline callee with _require_peer_online: onInviteFailed(extra, 703); inviting twice: 701", async () => {
  const { a, b } = await pair();
  const extra = '{"_require_peer_online":1}';
  const call = a.session.channelInviteUser2(acct("call"), acct("offline"), extra);
  const rec = new Recorder();
  rec.hook(call, CALL_CALLBACKS);
  assert.deepEqual(await rec.wait("onInviteFailed"), [extra, 703]);

  const room = acct("call");
  const first = a.session.channelInviteUser2(room, b.session.account, "");
  a.rec.hook(first, CALL_CALLBACKS, "first:");
  await a.rec.wait("first:onInviteReceivedByPeer");
  const again = a.session.channelInviteUser2(room, b.session.account, "");
  a.rec.hook(again, CALL_CALLBACKS, "again:");
  const [, code] = await a.rec.wait("again:onInviteFailed");
  assert.equal(code, 701);
  await logoutAll(a.session, b.session);
});

test("phone calls and DTMF need a SIP gateway: onInviteFailed(700); messageDTMFSend: cb(err 1001)", async () => {
  const { a, b } = await pair();
  // Hooked before any answer can come: callbacks are read when they run.
  const recs = [
    a.session.channelInvitePhone(acct("p"), "+123"),
    a.session.channelInvitePhone2(acct("p"), "+123", "+456"),
    a.session.channelInvitePhone3(acct("p"), "+123", "+456", "{}"),
  ].map((call) => {
    const rec = new Recorder();
    rec.hook(call, CALL_CALLBACKS);
    return rec;
  });
  for (const rec of recs) {
    const [, code] = await rec.wait("onInviteFailed");
    assert.equal(code, 700);
  }
  const call = a.session.channelInviteUser2(acct("call"), b.session.account, "");
  const rec = new Recorder();
  rec.hook(call, CALL_CALLBACKS);
  await rec.wait("onInviteReceivedByPeer");
  call.channelInviteDTMF("123#");
  const [, code] = await rec.wait("onInviteFailed");
  assert.equal(code, 700);
  const [err] = await new Promise((resolve) => a.session.messageDTMFSend(0, "1", (...args) => resolve(args)));
  assert.equal(err.ecode, 1001);
  assert.equal(typeof call.onInviteMsg, "function", "onInviteMsg exists for the API's sake");
  await logoutAll(a.session, b.session);
});
