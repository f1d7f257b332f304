// A typed app against agorasig.d.ts: tsc --noEmit -p sdk/js checks that the
// declarations describe the SDK as docs/sdk-js.md uses it (make lint).
import AgoraSig, { Signal, VERSION, type Call, type Channel, type Session, type SigError } from "../agorasig.mjs";

const sig = Signal("switchboard-dev", { url: "ws://127.0.0.1:7400/ws", messageTimeout: 15000 });
const sig2 = new AgoraSig.Signal("switchboard-dev", { url: ["ws://a/ws", "ws://b/ws"] });
sig.setDoLog(true, "debug");
sig2.setDoLog(false, 2);
const version: string = sig.getSDKVersion() + VERSION + AgoraSig.VERSION;

const session: Session = sig.login("alice", "_no_need_token", 10, 30);
const status: 0 | 1 | 2 | 3 = session.getStatus();
const code: number = session.getSdkVersion() + session.state + (session.isOnline() ? 1 : 0);

session.onLoginSuccess = (uid: number) => {
  const room: Channel = session.channelJoin("room");
  room.onChannelJoined = () => room.messageChannelSend("hello", (err: SigError | null) => err && console.log(err.ecode, err.desc));
  room.onChannelUserList = (users, n) => users.forEach(([account, id]) => console.log(account, id, n));
  room.onChannelUserJoined = (account, id) => console.log(account, id);
  room.onChannelUserLeaved = (account, id) => console.log(account, id);
  room.onChannelAttrUpdated = (k, v, type) => console.log(k, v, type);
  room.onMessageChannelReceive = (account, id, msg) => console.log(account, id, msg);
  room.onChannelLeaved = (ecode) => console.log(ecode);
  room.onChannelJoinFailed = (ecode) => console.log(ecode);
  room.channelSetAttr("topic", "go", (err) => console.log(err));
  room.channelDelAttr("topic");
  room.channelClearAttr();
  room.channelLeave(() => undefined);
  const online = session.channelJoin("_agora_user_online");
  online.onChannelUserJoined = (account) => console.log(`${account} is online`, uid);
};
session.onLoginFailed = (ecode, desc) => console.log(ecode, desc);
session.onLogout = (ecode) => console.log(ecode);
session.onReconnecting = (n) => console.log(n);
session.onReconnected = () => undefined;
session.onError = (evt) => console.log(evt.name, evt.ecode, evt.desc, evt.reason);
session.onLog = (txt) => console.log(txt);
session.onMessageInstantReceive = (account, uid, msg) => console.log(account, uid, msg);
session.onMessageSendSuccess = (id) => console.log(id);
session.onMessageSendError = (id, ecode) => console.log(id, ecode);
session.onQueryUserStatusResult = (name, st) => console.log(name, st);
session.onUserAttrResult = (account, name, value) => console.log(account, name, value);
session.onUserAttrAllResult = (account, value) => console.log(account, value);
session.onInvokeRet = (callID, err, resp) => console.log(callID, err, resp);
session.onChannelQueryUserNumResult = (ch, ecode, num) => console.log(ch, ecode, num);
session.onChannelQueryUserIsIn = (ch, account, isIn) => console.log(ch, account, isIn);
session.onInviteReceived = (call: Call) => {
  call.onInviteEndByPeer = (extra) => console.log(extra);
  if (call.extra) call.channelInviteAccept('{"ok":1}');
  else call.channelInviteRefuse();
};

const id: string = session.messageInstantSend("bob", "hi", (err) => console.log(err));
session.messageChannelSendForce("room", "hi", undefined, "my-id");
session.messageDTMFSend(0, "1");
session.invoke("io.agora.signal.user_query_user_status", { account: "bob" }, (err, resp) => console.log(err, resp.status));
session.queryUserStatus("bob", (err, online: number) => console.log(err, online));
session.setAttr("color", "blue");
session.getAttr("color", (err, value: string) => console.log(err, value));
session.getAttrAll((err, all: Record<string, string>) => console.log(err, all));
session.getUserAttr("bob", "color");
session.getUserAttrAll("bob");
session.channelQueryUserNum("room", (err, n: number) => console.log(err, n));
session.channelQueryUserIsIn("room", "bob", (err, isIn: number) => console.log(err, isIn));
session.callbackSet({ onLogout: (ecode) => console.log(ecode) });
const same: Session = session.callbackGet();

const call: Call = session.channelInviteUser2("call-1", "bob", '{"_require_peer_online":1}');
call.onInviteReceivedByPeer = (extra) => console.log(extra);
call.onInviteAcceptedByPeer = (extra) => call.channelInviteEnd();
call.onInviteRefusedByPeer = (extra) => console.log(extra);
call.onInviteFailed = (extra, ecode) => console.log(extra, ecode);
call.onInviteEndByMyself = (extra) => console.log(extra);
call.onInviteMsg = (extra, type, data) => console.log(extra, type, data);
call.channelInviteDTMF("1#");
session.channelInviteUser("call-2", "carol");
session.channelInvitePhone("p", "+1");
session.channelInvitePhone2("p", "+1", "+2");
session.channelInvitePhone3("p", "+1", "+2", "{}");
session.logout();
sig.destroy();
sig2.login2("bob", "_no_need_token", 30, 3);

// @ts-expect-error: a message is a string
session.messageInstantSend("bob", 5);
// @ts-expect-error: login needs a token
sig.login("alice");

export { version, status, code, id, same };
