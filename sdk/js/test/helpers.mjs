// Shared helpers of the Node suite: the server the Go test started (its
// URLs come in the environment), tokens, unique accounts, and a recorder
// that waits for callbacks with a deadline instead of sleeping.
import { createHash, randomBytes } from "node:crypto";
import { Signal } from "../agorasig.mjs";

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this suite through go test ./sdk/js/ (js_test.go starts the server)`);
  return v;
};

export const URL_ = need("SWITCHBOARD_URL");
export const APP = need("SWITCHBOARD_APP");
export const CERT = need("SWITCHBOARD_APP_CERT");
export const STRICT_APP = need("SWITCHBOARD_STRICT_APP");
export const PROXY_URL = need("SWITCHBOARD_PROXY_URL");
export const PROXY_CONTROL = need("SWITCHBOARD_PROXY_CONTROL");
export const BAD_VERSION_URL = need("SWITCHBOARD_BAD_VERSION_URL");
export const NOT_SWITCHBOARD_URL = need("SWITCHBOARD_NOT_SWITCHBOARD_URL");

// WAIT is how long a test waits for a callback: as long as a user would on
// a busy machine (the edge's own wait for a join is 30 s).
export const WAIT = 40000;

// token makes a SignalingToken v1: 1:appId:expiry:md5(account+appId+cert+expiry).
export function token(account, expiry = Math.floor(Date.now() / 1000) + 3600, app = APP, cert = CERT) {
  const md5 = createHash("md5").update(account + app + cert + expiry, "utf8").digest("hex");
  return `1:${app}:${expiry}:${md5}`;
}

// acct returns an account name no other test uses.
export const acct = (name) => `${name}-${randomBytes(4).toString("hex")}`;

export const signal = (opts = {}) => Signal(APP, { url: URL_, ...opts });

export const proxyDrop = () => control("drop");
export const proxyRefuse = (on) => control(`refuse?on=${on ? 1 : 0}`);
async function control(path) {
  const r = await fetch(`${PROXY_CONTROL}/${path}`, { method: "POST" });
  if (!r.ok) throw new Error(`proxy ${path}: ${r.status}`);
}

export const SESSION_CALLBACKS = [
  "onLoginSuccess", "onLoginFailed", "onLogout", "onReconnecting", "onReconnected", "onError", "onLog",
  "onMessageInstantReceive", "onMessageSendSuccess", "onMessageSendError", "onInviteReceived",
  "onQueryUserStatusResult", "onUserAttrResult", "onUserAttrAllResult", "onInvokeRet",
  "onChannelQueryUserNumResult", "onChannelQueryUserIsIn",
];
export const CHANNEL_CALLBACKS = [
  "onChannelJoined", "onChannelJoinFailed", "onChannelLeaved", "onChannelUserJoined", "onChannelUserLeaved",
  "onChannelUserList", "onChannelAttrUpdated", "onMessageChannelReceive",
];
export const CALL_CALLBACKS = [
  "onInviteReceivedByPeer", "onInviteAcceptedByPeer", "onInviteRefusedByPeer", "onInviteFailed",
  "onInviteEndByPeer", "onInviteEndByMyself", "onInviteMsg",
];

// Recorder records callbacks in the order they run, and waits for them.
export class Recorder {
  constructor() {
    this.events = [];
    this.waiters = [];
  }

  // hook sets every callback in names on obj to record as prefix + name.
  hook(obj, names, prefix = "") {
    for (const name of names) obj[name] = (...args) => this.push(prefix + name, args);
    return obj;
  }

  push(name, args) {
    this.events.push({ name, args });
    this.waiters = this.waiters.filter((w) => !w.check());
  }

  find(name, pred = () => true, from = 0) {
    for (let i = from; i < this.events.length; i++) {
      const e = this.events[i];
      if (e.name === name && pred(...e.args)) return e;
    }
    return undefined;
  }

  count(name, pred = () => true) {
    return this.events.filter((e) => e.name === name && pred(...e.args)).length;
  }

  names() {
    return this.events.map((e) => e.name);
  }

  // wait resolves with the args of the first event name whose args pred
  // accepts, at or after index from; it rejects after ms.
  wait(name, pred = () => true, { from = 0, ms = WAIT } = {}) {
    return new Promise((resolve, reject) => {
      const w = {
        check: () => {
          const e = this.find(name, pred, from);
          if (!e) return false;
          clearTimeout(w.timer);
          resolve(e.args);
          return true;
        },
      };
      if (w.check()) return;
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        const recent = this.events.slice(-15).map((e) => `${e.name}(${JSON.stringify(e.args).slice(0, 120)})`);
        reject(new Error(`no ${name} within ${ms} ms; recent: ${recent.join(", ")}`));
      }, ms);
      this.waiters.push(w);
    });
  }
}

// login logs account in on sig and waits for onLoginSuccess. It returns the
// session and the recorder of its callbacks.
export async function login(sig, account, tok = "_no_need_token", ...more) {
  const rec = new Recorder();
  const session = sig.login(account, tok, ...more);
  rec.hook(session, SESSION_CALLBACKS);
  await rec.wait("onLoginSuccess");
  return { session, rec };
}

// join joins name and waits for its user list and attributes; the channel's
// callbacks are recorded in rec, prefixed with "name:".
export async function join(session, rec, name) {
  const ch = session.channelJoin(name);
  rec.hook(ch, CHANNEL_CALLBACKS, name + ":");
  await rec.wait(name + ":onChannelAttrUpdated", (k) => k === "_member_num");
  return ch;
}

// logoutAll logs sessions out that are still logged in, and waits for it.
export async function logoutAll(...sessions) {
  await Promise.all(
    sessions.map((s) => {
      if (!s || s.getStatus() === 0) return undefined;
      return new Promise((resolve) => {
        const prev = s.onLogout;
        s.onLogout = (...a) => {
          prev.apply(s, a);
          resolve();
        };
        s.logout();
      });
    }),
  );
}
