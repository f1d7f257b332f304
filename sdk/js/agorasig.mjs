// Switchboard's browser SDK: the shape of AgoraSig.js 1.4 (Signal, Session,
// Channel, Call, with property callbacks), speaking Switchboard's wire
// protocol (docs/protocol.md) over the platform's own WebSocket. One ES
// module, no dependencies; tools/build.mjs turns it into the classic script
// agorasig.js. docs/sdk-js.md is its manual.
//
// Guarantees, as the Go SDK's: frames are counted and acknowledged; a lost
// connection is resumed (or, when the edge no longer knows the session,
// logged in again with the channels re-joined) without the app seeing a
// logout; every request with a callback gets exactly one answer; a
// session's callbacks run in order, one at a time, and an exception thrown
// by one is reported and does not stop the others.

const VERSION = "1.4.0";
// The API's getSdkVersion encoding: 1, then two digits each for major, minor
// and patch, and three for the build (1010104019 is 1.1.4.19).
const SDK_VERSION_CODE = 1010400000;
const SUBPROTOCOL = "switchboard.v1";
const PROTOCOL_VERSION = 1;
const DEFAULT_URL = "ws://127.0.0.1:7400/ws";

// Limits the SDK checks before sending (protocol/limits.go): a request over
// them fails through its callback with 1005 and never reaches the edge.
const MAX_MSG = 8192; // message, invitation extra, invoke req
const MAX_USER_ATTR = 1024;
const MAX_CHAN_ATTR = 8096;
const MAX_FRAME = 65536; // the edge closes the connection on a larger frame

const ACK_EVERY = 64;
const MAX_QUEUED = 1024; // requests waiting for a (re)connection
const DEFAULT_PING = 10000;
const HANDSHAKE_MS = 10000;
const MESSAGE_TIMEOUT = 15000; // longer than the edge's own 10 s wait for a receiver
const REQUEST_TIMEOUT = 45000; // longer than the edge's 30 s wait for a join or leave
const BACKOFF_MIN = 100;
const BACKOFF_MAX = 2000;

// Codes of the API's AGORA_E_CODE that the SDK gives itself.
const LOGOUT_USER = 101, LOGOUT_NET = 102, LOGOUT_KICKED = 103, LOGOUT_TOKEN_EXPIRED = 105;
const LOGIN_OTHER = 200, LOGIN_NET = 201, LOGIN_CANCEL = 203, LOGIN_OLD_VERSION = 205;
const GENERAL = 1000, GENERAL_FAILED = 1001, GENERAL_UNKNOWN = 1002, NOT_LOGGED_IN = 1003, LARGE_PARAM = 1005;

// WebSocket close codes of protocol/close.go after which a session is over.
const CLOSE_KICKED = 4001, CLOSE_TOKEN_EXPIRED = 4002;

// Frames that are not counted for acknowledgements and resumes.
const CONTROL = new Set(["hello", "onLoginSuccess", "onReconnected", "resumeFailed", "move"]);

// The probe the SDK sends after a ping interval of silence. A page cannot
// see the edge's WebSocket pings (the platform answers them), so silence
// alone cannot tell an idle connection from a dead one: the probe makes the
// edge send a frame. Edges of protocol 1 answer an unknown op themselves,
// with onError(name "ping", 1004), which the SDK keeps from the app.
const PROBE = '{"op":"ping"}';

const noop = () => {};
const encoder = new TextEncoder();
const utf8Len = (s) => (s.length * 3 <= MAX_MSG ? s.length : encoder.encode(s).length);

let idSeq = 0;
const idPrefix = Math.random().toString(36).slice(2, 10);
const newID = (kind) => `js-${idPrefix}-${kind}${++idSeq}`;

// Argument checks: a missing or wrong-type argument throws at once, before
// anything is sent, naming the argument.
function need(v, type, name) {
  if (typeof v !== type) throw new TypeError(`AgoraSig: ${name} must be a ${type}, got ${v === null ? "null" : typeof v}`);
  return v;
}
function opt(v, type, name, dflt) {
  return v === undefined || v === null ? dflt : need(v, type, name);
}
const optCb = (cb) => opt(cb, "function", "cb", undefined);

function defaultURL() {
  const loc = globalThis.location;
  if (loc && /^https?:$/.test(loc.protocol)) return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws`;
  return DEFAULT_URL;
}

const LEVELS = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * Signal(appId, options) is the SDK instance of an app, with or without
 * `new`. options: url (a string or a list, tried round-robin; default: the
 * page's own host at /ws, or ws://127.0.0.1:7400/ws outside a page),
 * WebSocket (a constructor, default the platform's), messageTimeout (ms,
 * default 15000).
 */
function Signal(appId, options) {
  if (!(this instanceof Signal)) return new Signal(appId, options);
  this.appId = need(appId, "string", "appId");
  const o = opt(options, "object", "options", {});
  let urls = opt(o.url, o.url && typeof o.url === "object" ? "object" : "string", "options.url", defaultURL());
  urls = (Array.isArray(urls) ? urls : [urls]).filter((u) => typeof u === "string" && u.trim()).map((u) => u.trim());
  if (!urls.length) throw new TypeError("AgoraSig: options.url must name at least one URL");
  this._urls = urls;
  this._next = 0;
  this._WS = opt(o.WebSocket, "function", "options.WebSocket", globalThis.WebSocket);
  if (typeof this._WS !== "function") throw new TypeError("AgoraSig: no WebSocket here; pass options.WebSocket");
  this._msgTimeout = opt(o.messageTimeout, "number", "options.messageTimeout", MESSAGE_TIMEOUT);
  this._doLog = false;
  this._level = LEVELS.info;
  this._sessions = new Set();
}

Signal.prototype.getSDKVersion = function () {
  return VERSION;
};

/** setDoLog(enabled, level): the SDK's log lines, to the console and onLog. */
Signal.prototype.setDoLog = function (enabled, level) {
  this._doLog = !!enabled;
  if (level !== undefined) {
    this._level = typeof level === "number" ? level : LEVELS[need(level, "string", "level")] ?? LEVELS.info;
  }
};

/**
 * login(account, token, reconnectCount = 10, reconnectTime = 30) starts a
 * session and returns it; set its callbacks before the current task ends.
 * A lost connection is retried up to reconnectCount times within
 * reconnectTime seconds.
 */
Signal.prototype.login = function (account, token, reconnectCount, reconnectTime) {
  return new Session(this, "login", account, token, reconnectCount, reconnectTime, 10, 30);
};

/** login2 is login with the API's login2 defaults (30 s, 3 attempts). */
Signal.prototype.login2 = function (account, token, retryTimeInS, retryCount) {
  return new Session(this, "login2", account, token, retryCount, retryTimeInS, 3, 30);
};

/** destroy logs every session of this instance out. */
Signal.prototype.destroy = function () {
  for (const s of this._sessions) if (s._status !== 0) s.logout();
};

Signal.prototype._nextURL = function () {
  const u = this._urls[this._next];
  this._next = (this._next + 1) % this._urls.length;
  return u;
};

// Session-level callbacks, as the API names them; each defaults to nothing.
const SESSION_CALLBACKS = [
  "onLoginSuccess", "onLoginFailed", "onLogout", "onReconnecting", "onReconnected", "onError", "onLog",
  "onMessageInstantReceive", "onMessageSendSuccess", "onMessageSendError", "onInviteReceived",
  "onQueryUserStatusResult", "onUserAttrResult", "onUserAttrAllResult", "onInvokeRet",
  "onChannelQueryUserNumResult", "onChannelQueryUserIsIn",
];

function Session(signal, op, account, token, count, time, dfltCount, dfltTime) {
  need(account, "string", "account");
  need(token, "string", "token");
  count = opt(count, "number", "reconnectCount", dfltCount);
  time = opt(time, "number", "reconnectTime", dfltTime);
  this.account = account;
  this._sig = signal;
  this._loginFrame = { op, appId: signal.appId, account, token };
  this._retryCount = count > 0 ? count : dfltCount;
  this._retryMs = (time > 0 ? time : dfltTime) * 1000;
  this._status = 1;
  this._ended = false;
  this._loggedIn = false; // logged in once: a lost connection is a reconnection
  this._loggingOut = false;
  this._conn = null;
  this._secret = ""; // the session secret of onLoginSuccess, for resume
  this._count = 0; // counted frames under _secret
  this._acked = 0;
  this._queued = []; // frames waiting for the session to be up
  this._pend = new Map(); // key → [pending request], oldest first
  this._seq = 0;
  this._timedOut = new Set(); // message IDs the SDK already failed
  this._channels = new Map(); // name → Channel
  this._joined = []; // joined channel names, in join order, to re-join after a re-login
  this._rejoining = new Set();
  this._calls = new Map(); // channel + "\n" + peer → Call
  this._q = [];
  this._scheduled = false;
  this._epStart = Date.now();
  this._dials = 0;
  this._timer = null;
  signal._sessions.add(this);
  this._connect();
}

for (const name of SESSION_CALLBACKS) Session.prototype[name] = noop;

const S = Session.prototype;

S.getStatus = function () {
  return this._status;
};
Object.defineProperty(S, "state", { get() { return this._status; } });
S.isOnline = function () {
  return this._status === 2;
};
S.getSdkVersion = function () {
  return SDK_VERSION_CODE;
};

/** callbackSet(handler) copies handler's on… functions onto the session. */
S.callbackSet = function (handler) {
  need(handler, "object", "handler");
  for (const name of SESSION_CALLBACKS) if (typeof handler[name] === "function") this[name] = handler[name];
};
S.callbackGet = function () {
  return this;
};

// ---- callbacks: one queue per session, run in order, one at a time ----

S._post = function (fn) {
  this._q.push(fn);
  if (!this._scheduled) {
    this._scheduled = true;
    queueMicrotask(() => this._drain());
  }
};

S._drain = function () {
  // Index, not shift: a burst of thousands of frames stays linear.
  let i = 0;
  for (; i < this._q.length; i++) {
    const fn = this._q[i];
    this._q[i] = null;
    fn();
  }
  this._q = [];
  this._scheduled = false;
};

// _emit queues target[name](...args), the property as it is when it runs.
S._emit = function (target, name, args) {
  this._post(() => this._call(target, name, args));
};

S._call = function (target, name, args) {
  const f = target[name];
  if (typeof f !== "function") return;
  try {
    f.apply(target, args);
  } catch (e) {
    this._thrown(name, e);
  }
};

// _thrown reports an exception from an app's callback: to the console, and
// to onError unless onError itself threw.
S._thrown = function (name, e) {
  const desc = `${name} threw: ${e && e.message ? e.message : e}`;
  console.error(`AgoraSig: ${desc}`, e);
  if (name === "onError") return;
  try {
    this.onError({ name, ecode: GENERAL_UNKNOWN, desc, reason: desc, error: e });
  } catch (e2) {
    console.error("AgoraSig: onError threw", e2);
  }
};

S._log = function (level, txt) {
  const sig = this._sig;
  if (!sig._doLog || LEVELS[level] > sig._level) return;
  const line = `AgoraSig ${this.account}: ${txt}`;
  (console[level] || console.log)(line);
  this._emit(this, "onLog", [line]);
};

// ---- connections ----

S._connect = function (moveTo) {
  if (this._ended) return;
  const retry = this._dials + (this._loggedIn ? 1 : 0);
  let wait = 0;
  if (this._dials > 0) {
    let d = BACKOFF_MIN;
    for (let i = 1; i < this._dials && d < BACKOFF_MAX; i++) d *= 2;
    d = Math.min(d, BACKOFF_MAX);
    wait = d / 2 + Math.random() * (d / 2);
  }
  if (retry > 0 && this._exhausted(retry, wait)) return;
  const url = moveTo || this._sig._nextURL();
  this._dials++;
  this._timer = setTimeout(() => this._dial(url, retry), wait);
};

// _exhausted ends the session when retry number retry, after wait, is past
// the budget of login's reconnectCount and reconnectTime.
S._exhausted = function (retry, wait) {
  if (retry <= this._retryCount && Date.now() - this._epStart + wait < this._retryMs) return false;
  const desc = `no Switchboard edge answered at ${this._sig._urls.join(", ")} after ${retry - 1} attempts`;
  this._log("warn", desc);
  if (this._loggedIn) this._end(this, "onLogout", [LOGOUT_NET, desc]);
  else this._end(this, "onLoginFailed", [LOGIN_NET, desc]);
  return true;
};

S._dial = function (url, retry) {
  this._timer = null;
  if (this._ended) return;
  if (this._loggedIn) this._emit(this, "onReconnecting", [retry]);
  this._log("info", `connecting to ${url}`);
  let ws;
  try {
    ws = new this._sig._WS(url, SUBPROTOCOL);
  } catch (e) {
    // A URL the platform refuses (not ws: or wss:, say) will never work.
    this._refused(`cannot open ${url}: ${e && e.message}`, LOGIN_OTHER);
    return;
  }
  const c = { ws, url, hello: false, ping: DEFAULT_PING, rx: Date.now(), probed: false, timer: null };
  this._conn = c;
  c.timer = setTimeout(() => this._lost(c, `no hello from ${url} within ${HANDSHAKE_MS} ms`), HANDSHAKE_MS);
  ws.onmessage = (e) => this._frame(c, e.data);
  ws.onclose = (e) => this._lost(c, `connection to ${url} closed (${e.code})`, e.code);
  // A failed handshake gives error and then close in a browser, and only
  // error in some other platforms; whichever comes first counts.
  ws.onerror = () => this._lost(c, `connection to ${url} failed`);
};

// _refused ends a session whose server is not a Switchboard edge of this
// protocol: that does not heal by retrying.
S._refused = function (desc, code) {
  this._log("error", desc);
  if (this._loggedIn) this._end(this, "onLogout", [LOGOUT_NET, desc]);
  else this._end(this, "onLoginFailed", [code, desc]);
};

S._close = function (c, graceful) {
  clearTimeout(c.timer);
  c.ws.onmessage = c.ws.onclose = c.ws.onerror = null;
  try {
    if (graceful) c.ws.close(1000);
    else c.ws.close();
  } catch {
    // already closed
  }
};

S._write = function (c, frame) {
  try {
    c.ws.send(frame);
  } catch {
    // The close event starts the reconnection.
  }
};

// _alive keeps watch over a connection: after a ping interval of silence it
// probes, and after three it gives the connection up.
S._alive = function (c) {
  clearTimeout(c.timer);
  const silent = Date.now() - c.rx;
  if (silent >= 3 * c.ping) {
    this._lost(c, `nothing from ${c.url} for ${silent} ms`);
    return;
  }
  // Probe only while the session is up on c: before that, the edge would
  // answer outside the session, uncounted, and the counts would part.
  if (silent >= c.ping && !c.probed && this._status === 2) {
    c.probed = true;
    this._write(c, PROBE);
  }
  const next = (silent >= c.ping ? 3 * c.ping : c.ping) - silent;
  c.timer = setTimeout(() => this._alive(c), Math.max(next, 50));
};

S._lost = function (c, why, code) {
  if (c !== this._conn) return;
  this._close(c, false);
  this._conn = null;
  if (this._ended) return;
  this._log("info", why);
  // The edge closes with these codes after onLogout(103/105), which
  // normally came first; the close alone must also stop a resume.
  if (code === CLOSE_KICKED) return this._end(this, "onLogout", [LOGOUT_KICKED]);
  if (code === CLOSE_TOKEN_EXPIRED) return this._end(this, "onLogout", [LOGOUT_TOKEN_EXPIRED]);
  if (this._loggingOut) return this._end(this, "onLogout", [LOGOUT_USER]);
  if (this._status === 2) {
    this._status = 3;
    this._epStart = Date.now();
    this._dials = 0;
  }
  this._connect();
};

S._frame = function (c, data) {
  if (c !== this._conn || this._ended) return;
  c.rx = Date.now();
  c.probed = false;
  let ev;
  try {
    ev = JSON.parse(data);
  } catch {
    ev = null;
  }
  if (!c.hello) return this._hello(c, ev, data);
  if (!ev || typeof ev.ev !== "string") {
    this._log("warn", `undecodable frame: ${String(data).slice(0, 64)}`);
    return this._counted(c, false);
  }
  this._event(c, ev);
};

// _hello checks the first frame of a connection, then logs in or resumes.
S._hello = function (c, ev, data) {
  const picked = c.ws.protocol;
  if (picked && picked !== SUBPROTOCOL) {
    return this._refused(`${c.url} speaks ${picked}, not ${SUBPROTOCOL}`, LOGIN_OLD_VERSION);
  }
  if (!ev || ev.ev !== "hello") {
    return this._refused(`${c.url} is not a Switchboard edge: its first frame is ${JSON.stringify(String(data).slice(0, 64))}, not a hello`, LOGIN_OTHER);
  }
  if (ev.v !== undefined && ev.v !== PROTOCOL_VERSION) {
    return this._refused(`${c.url} speaks Switchboard protocol version ${ev.v}; this SDK speaks ${PROTOCOL_VERSION}`, LOGIN_OLD_VERSION);
  }
  c.hello = true;
  c.ping = ev.ping > 0 ? ev.ping : DEFAULT_PING;
  this._alive(c);
  if (this._secret) {
    this._acked = this._count; // a resume acknowledges what it counts
    const { appId, account } = this._loginFrame;
    this._write(c, JSON.stringify({ op: "resume", appId, account, session: this._secret, n: this._count }));
  } else {
    this._write(c, JSON.stringify(this._loginFrame));
  }
};

S._counted = function (c, ack) {
  if (!this._secret) return;
  this._count++;
  if (ack || this._count - this._acked >= ACK_EVERY) {
    this._acked = this._count;
    this._write(c, `{"op":"ack","n":${this._count}}`);
  }
};

// _up marks the session as up on c and sends what waited for it.
S._up = function (c) {
  this._status = 2;
  this._dials = 0;
  const q = this._queued;
  this._queued = [];
  for (const f of q) this._write(c, f);
};

S._event = function (c, ev) {
  switch (ev.ev) {
    case "hello":
      return;
    case "onLoginSuccess":
      this._secret = ev.session || "";
      this._count = this._acked = 0;
      if (this._loggedIn) {
        // A re-login after resumeFailed: the new session is in no channel
        // yet, so join the old ones before anything queued, which may be
        // about them.
        this._log("info", `logged in again; joining ${this._joined.length} channels`);
        for (const ch of this._joined) this._write(c, JSON.stringify({ op: "channelJoin", channelID: ch }));
        this._rejoining = new Set(this._joined);
        this._up(c);
        return this._emit(this, "onReconnected", [0]);
      }
      this._loggedIn = true;
      this._up(c);
      return this._emit(this, "onLoginSuccess", [ev.uid || 0]);
    case "onLoginFailed":
      if (this._loggedIn) return this._end(this, "onLogout", [LOGOUT_NET, `login after a lost session failed (${ev.ecode})`]);
      return this._end(this, "onLoginFailed", [ev.ecode]);
    case "onReconnected":
      this._up(c);
      return this._emit(this, "onReconnected", [0]);
    case "resumeFailed":
      this._log("info", `resume failed (${ev.ecode}); logging in again`);
      this._secret = "";
      this._count = this._acked = 0;
      return this._write(c, JSON.stringify(this._loginFrame));
    case "move":
      this._log("info", `the edge asks to move to ${ev.url || "another edge"}`);
      this._close(c, false);
      this._conn = null;
      if (this._status === 2) {
        this._status = 3;
        this._epStart = Date.now();
        this._dials = 0;
      }
      return this._connect(ev.url);
  }
  if (CONTROL.has(ev.ev)) return;
  this._counted(c, ev.ack === true);
  if (ev.ev === "onLogout") {
    // Whatever the code, the session is over: never resume it.
    return this._end(this, "onLogout", [ev.ecode]);
  }
  this._dispatch(ev);
};

// ---- ending ----

// _end ends the session: status 0, connection closed (after a logout frame
// when logout is set), queued requests failed, then target[name](...args).
S._end = function (target, name, args, logout) {
  if (this._ended) return;
  this._ended = true;
  this._status = 0;
  clearTimeout(this._timer);
  const c = this._conn;
  this._conn = null;
  if (c) {
    if (logout && c.hello && !this._loggingOut) this._write(c, '{"op":"logout"}');
    this._close(c, true);
  }
  const q = this._queued;
  this._queued = [];
  for (const f of q) this._failFrame(JSON.parse(f), "unavailable", "not sent: the session ended");
  this._sig._sessions.delete(this);
  // Requests in flight get their answer from their timers: an edge may
  // still have done them.
  if (name) this._emit(target, name, args);
};

/** logout(): onLogout(101) follows. While logging in it cancels (onLoginFailed(203)). */
S.logout = function () {
  switch (true) {
    case this._status === 0:
      return this._failFrame({ op: "logout" }, "notLoggedIn", "not logged in");
    case this._status === 1:
      return this._end(this, "onLoginFailed", [LOGIN_CANCEL], true);
    case this._status === 3:
      return this._end(this, "onLogout", [LOGOUT_USER], true);
    case this._loggingOut:
      return this._log("info", "logout ignored: already logging out");
  }
  // The session ends when the edge answers onLogout(101), or here if the
  // connection drops first.
  this._loggingOut = true;
  this._write(this._conn, '{"op":"logout"}');
};

// ---- requests ----

// Failure codes by what went wrong and the op, as protocol.CodeFor gives them.
function failCode(op, what) {
  if (what === "large") return LARGE_PARAM;
  if (what === "notLoggedIn") return NOT_LOGGED_IN;
  const timeout = what === "timeout";
  switch (op) {
    case "messageInstantSend": case "messageChannelSend": case "messageChannelSendForce":
      return timeout ? 401 : 400;
    case "channelQueryUserNum":
      return timeout ? 501 : 500;
    case "channelJoin":
      return 300;
    case "channelInviteUser": case "channelInviteUser2": case "channelInviteAccept":
    case "channelInviteRefuse": case "channelInviteEnd":
      return timeout ? 704 : 702;
  }
  return timeout ? GENERAL : GENERAL_FAILED;
}

// failureEvent is the event that tells of request r's failure: the op's
// own failure callback where it has one, onError otherwise.
function failureEvent(r, ecode, desc) {
  switch (r.op) {
    case "messageInstantSend": case "messageChannelSend": case "messageChannelSendForce": case "messageDTMFSend":
      return { ev: r.op === "messageDTMFSend" ? "onError" : "onMessageSendError", name: r.op, messageID: r.msgID, ecode, desc };
    case "invoke":
      return { ev: "onInvokeRet", callID: r.callID, err: String(ecode), resp: JSON.stringify({ desc }) };
    case "channelJoin":
      return { ev: "onChannelJoinFailed", channelID: r.channelID, ecode };
    case "channelQueryUserNum":
      return { ev: "onChannelQueryUserNumResult", channelID: r.channelID, ecode, num: 0 };
    case "login": case "login2":
      return { ev: "onLoginFailed", ecode };
  }
  if (r.op.startsWith("channelInvite")) {
    return { ev: "onInviteFailed", channelID: r.channelID, account: r.account || r.phoneNum, ecode, extra: r.extra || "" };
  }
  return { ev: "onError", name: r.op, ecode, desc };
}

S._failFrame = function (r, what, desc) {
  this._dispatch(failureEvent(r, failCode(r.op, what), desc));
};

// _send sends request r, or queues it while the session is not up, or fails
// it at once. p, if given, is its pending answer: p.key, p.cb, p.args.
S._send = function (r, p) {
  let frame = JSON.stringify(r);
  if (frame.length > MAX_FRAME / 3 && encoder.encode(frame).length > MAX_FRAME) {
    frame = null;
  }
  if (p) this._track(r, p);
  if (!frame) return this._failFrame(r, "large", `request over ${MAX_FRAME} bytes`);
  if (this._status === 0) return this._failFrame(r, "notLoggedIn", "not logged in");
  if (this._status === 2 && this._conn) return this._write(this._conn, frame);
  if (this._queued.length >= MAX_QUEUED) {
    return this._dispatch(failureEvent(r, GENERAL_FAILED, "not sent: too many requests while reconnecting"));
  }
  this._queued.push(frame);
};

// _large fails r through its callback when field s is over max bytes: a
// request the edge would refuse never leaves.
S._large = function (r, p, s, max, what) {
  if (utf8Len(s) <= max) return false;
  this._track(r, p);
  this._failFrame(r, "large", `${what} over ${max} bytes`);
  return true;
};

// _track records a request's pending answer, with a timer that fails it if
// no answer comes: a request sent just before a connection dropped may
// never reach an edge, and its caller must still learn that.
S._track = function (r, p) {
  if (!p || !p.key) return;
  p.op = r.op;
  p.seq = ++this._seq;
  const list = this._pend.get(p.key);
  if (list) list.push(p);
  else this._pend.set(p.key, [p]);
  const isMsg = r.op.startsWith("message");
  p.timer = setTimeout(() => {
    if (!this._take(p.key, p)) return;
    if (isMsg) this._timedOut.add(r.msgID);
    this._answer(p, failureEvent(r, failCode(r.op, "timeout"), "timed out"));
  }, isMsg ? this._sig._msgTimeout : REQUEST_TIMEOUT);
};

// _take removes pending entry p (or the oldest under key) and returns it.
S._take = function (key, p) {
  const list = this._pend.get(key);
  if (!list || !list.length) return null;
  const i = p ? list.indexOf(p) : 0;
  if (i < 0) return null;
  const [got] = list.splice(i, 1);
  if (!list.length) this._pend.delete(key);
  clearTimeout(got.timer);
  return got;
};

// _takeOp removes the oldest pending request of op (an onError names only
// the op; the session's requests are answered in order).
S._takeOp = function (op) {
  let best = null;
  for (const list of this._pend.values()) {
    for (const p of list) if (p.op === op && (!best || p.seq < best.seq)) best = p;
  }
  return best && this._take(best.key, best);
};

// _answer gives pending request p its answer ev: to its cb if it has one,
// otherwise to the session's callback for ev.
S._answer = function (p, ev) {
  if (p.cb) {
    const args = p.args(ev);
    this._post(() => this._call(p, "cb", args));
  } else {
    this._sessionEvent(ev);
  }
};

function errOf(ev, name) {
  const desc = ev.desc || "";
  return { name: ev.name || name, ecode: ev.ecode, desc, reason: desc };
}

function parseJSON(s) {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

// ---- events to callbacks ----

S._chan = function (id) {
  return this._channels.get(id);
};

// _dispatch routes one counted event (or a failure the SDK made itself) to
// the pending request it answers and to the object it is about.
S._dispatch = function (ev) {
  const ch = ev.channelID !== undefined ? this._chan(ev.channelID) : undefined;
  let p;
  switch (ev.ev) {
    case "onError":
      if (ev.name === "ping") return; // the answer to the SDK's probe
      p = this._takeOp(ev.name);
      if (p) return this._answer(p, ev);
      return this._emit(this, "onError", [errOf(ev)]);
    case "onMessageSendSuccess":
    case "onMessageSendError":
      p = this._take("m\n" + ev.messageID);
      if (p) return this._answer(p, ev);
      if (this._timedOut.delete(ev.messageID)) {
        return this._log("info", `late answer for message ${ev.messageID} dropped: it timed out`);
      }
      return this._sessionEvent(ev);
    case "onInvokeRet":
      p = this._take("i\n" + ev.callID);
      return p ? this._answer(p, ev) : this._sessionEvent(ev);
    case "onQueryUserStatusResult":
      p = this._take("qs\n" + ev.name);
      return p ? this._answer(p, ev) : this._sessionEvent(ev);
    case "onUserAttrResult":
      p = this._take(`ua\n${ev.account || ""}\n${ev.name || ""}`);
      return p ? this._answer(p, ev) : this._sessionEvent(ev);
    case "onUserAttrAllResult":
      p = this._take("uaa\n" + (ev.account || ""));
      return p ? this._answer(p, ev) : this._sessionEvent(ev);
    case "onChannelQueryUserNumResult":
      p = this._take("qn\n" + ev.channelID);
      return p ? this._answer(p, ev) : this._sessionEvent(ev);
    case "onChannelQueryUserIsIn":
      p = this._take(`qi\n${ev.channelID}\n${ev.account || ""}`);
      return p ? this._answer(p, ev) : this._sessionEvent(ev);
    case "onMessageInstantReceive":
      return this._emit(this, "onMessageInstantReceive", [ev.account || "", ev.uid || 0, ev.msg || ""]);
    case "onChannelJoined":
      if (!this._joined.includes(ev.channelID)) this._joined.push(ev.channelID);
      this._rejoining.delete(ev.channelID);
      return ch && this._emit(ch, "onChannelJoined", []);
    case "onChannelJoinFailed":
      // Only a failed re-join takes a channel off the list: a failed join
      // of a channel the user is already in leaves them in it.
      if (this._rejoining.delete(ev.channelID)) this._forget(ev.channelID);
      if (ch && !this._joined.includes(ev.channelID)) this._channels.delete(ev.channelID);
      return ch && this._emit(ch, "onChannelJoinFailed", [ev.ecode]);
    case "onChannelLeaved":
      this._forget(ev.channelID);
      p = this._take("cl\n" + ev.channelID);
      if (p) this._answer(p, { ev: "ok" });
      this._channels.delete(ev.channelID);
      return ch && this._emit(ch, "onChannelLeaved", [ev.ecode]);
    case "onChannelUserJoined":
      return ch && this._emit(ch, "onChannelUserJoined", [ev.account || "", ev.uid || 0]);
    case "onChannelUserLeaved":
      return ch && this._emit(ch, "onChannelUserLeaved", [ev.account || "", ev.uid || 0]);
    case "onChannelUserList": {
      const accounts = ev.accounts || [];
      const uids = ev.uids || [];
      const users = accounts.map((a, i) => [a, uids[i] || 0]);
      return ch && this._emit(ch, "onChannelUserList", [users, ev.n || accounts.length]);
    }
    case "onChannelAttrUpdated": {
      const type = ev.type || "";
      const key = type === "clear" ? `ca\nclear\n${ev.channelID}` : `ca\n${type}\n${ev.channelID}\n${ev.name || ""}`;
      p = this._take(key);
      if (p) this._answer(p, { ev: "ok" });
      return ch && this._emit(ch, "onChannelAttrUpdated", [ev.name || "", ev.value || "", type]);
    }
    case "onMessageChannelReceive":
      return ch && this._emit(ch, "onMessageChannelReceive", [ev.account || "", ev.uid || 0, ev.msg || ""]);
    case "onInviteReceived": {
      const call = new Call(this, ev.channelID || "", ev.account || "", ev.extra || "");
      this._calls.set(call._key, call);
      return this._emit(this, "onInviteReceived", [call]);
    }
  }
  if (ev.ev.startsWith("onInvite")) return this._inviteEvent(ev);
  this._log("debug", `event ${ev.ev} not handled`);
};

S._forget = function (id) {
  const i = this._joined.indexOf(id);
  if (i >= 0) this._joined.splice(i, 1);
};

// Invitation events, to the Call they are about; each is given extra.
const INVITE_END = new Set(["onInviteRefusedByPeer", "onInviteFailed", "onInviteEndByPeer", "onInviteEndByMyself"]);
S._inviteEvent = function (ev) {
  const key = (ev.channelID || "") + "\n" + (ev.account || "");
  const call = this._calls.get(key);
  if (!call) return this._log("info", `${ev.ev} for no known call (${ev.channelID}, ${ev.account})`);
  if (INVITE_END.has(ev.ev)) this._calls.delete(key);
  const extra = ev.extra || "";
  let args = [extra];
  if (ev.ev === "onInviteFailed") args = [extra, ev.ecode];
  else if (ev.ev === "onInviteMsg") args = [extra, ev.msgType || "", ev.msgData || ""];
  this._emit(call, ev.ev, args);
};

// _sessionEvent calls the session's own callback for an answer event that
// no per-request callback took.
S._sessionEvent = function (ev) {
  switch (ev.ev) {
    case "onError":
      return this._emit(this, "onError", [errOf(ev)]);
    case "onMessageSendSuccess":
      return this._emit(this, ev.ev, [ev.messageID || ""]);
    case "onMessageSendError":
      return this._emit(this, ev.ev, [ev.messageID || "", ev.ecode]);
    case "onInvokeRet":
      return this._emit(this, ev.ev, [ev.callID || "", ev.err || "", ev.resp || ""]);
    case "onQueryUserStatusResult":
      return this._emit(this, ev.ev, [ev.name || "", ev.status || ""]);
    case "onUserAttrResult":
      return this._emit(this, ev.ev, [ev.account || "", ev.name || "", ev.value || ""]);
    case "onUserAttrAllResult":
      return this._emit(this, ev.ev, [ev.account || "", ev.value || ""]);
    case "onChannelQueryUserNumResult":
      return this._emit(this, ev.ev, [ev.channelID || "", ev.ecode || 0, ev.num || 0]);
    case "onChannelQueryUserIsIn":
      return this._emit(this, ev.ev, [ev.channelID || "", ev.account || "", ev.isIn || 0]);
  }
};

// ---- the session's methods ----

// Answer shapes of the per-request callbacks: cb(err) or cb(err, value),
// err null on success or {name, ecode, desc, reason}.
const okOrErr = (name) => (ev) => [ev.ev === "onError" || ev.ev === "onMessageSendError" ? errOf(ev, name) : null];
const valueOr = (name, val) => (ev) => (ev.ev === "onError" ? [errOf(ev, name), undefined] : [null, val(ev)]);

/** messageInstantSend(peer, msg, cb): cb(null) once the peer has it, cb(err) if not. */
S.messageInstantSend = function (peer, msg, cb, msgID) {
  return this._message({ op: "messageInstantSend", account: need(peer, "string", "peer") }, msg, cb, msgID);
};

/** messageChannelSendForce(channel, msg, cb): a channel message without joining. */
S.messageChannelSendForce = function (channel, msg, cb, msgID) {
  return this._message({ op: "messageChannelSendForce", channelID: need(channel, "string", "channel") }, msg, cb, msgID);
};

/** messageDTMFSend(uid, msg, cb): obsolete in the API; needs a SIP gateway. */
S.messageDTMFSend = function (uid, msg, cb) {
  need(msg, "string", "msg");
  const r = { op: "messageDTMFSend", uid: need(uid, "number", "uid"), msg, msgID: newID("m") };
  this._send(r, { key: "o\n" + r.msgID, cb: optCb(cb), args: okOrErr(r.op) });
};

S._message = function (r, msg, cb, msgID) {
  r.msg = need(msg, "string", "msg");
  cb = optCb(cb);
  r.msgID = opt(msgID, "string", "msgID", "") || newID("m");
  const p = { key: "m\n" + r.msgID, cb, args: okOrErr(r.op) };
  if (this._large(r, p, msg, MAX_MSG, "msg")) return r.msgID;
  this._send(r, p);
  return r.msgID;
};

/**
 * invoke(name, args, cb): a function of the API's invoke table; args is an
 * object (or its JSON text); cb(err, resp) with resp the parsed reply.
 */
S.invoke = function (name, args, cb) {
  need(name, "string", "name");
  const req = typeof args === "string" ? args : JSON.stringify(need(args, "object", "args"));
  cb = optCb(cb);
  const r = { op: "invoke", name, req, callID: newID("c") };
  const p = {
    key: "i\n" + r.callID, cb,
    args: (ev) => {
      const resp = parseJSON(ev.resp || "{}");
      if (!ev.err) return [null, resp];
      const desc = (resp && resp.desc) || ev.err;
      return [{ name, ecode: Number(ev.err) || GENERAL_UNKNOWN, desc, reason: desc }, resp];
    },
  };
  if (this._large(r, p, req, MAX_MSG, "args")) return r.callID;
  this._send(r, p);
  return r.callID;
};

/** queryUserStatus(account, cb): onQueryUserStatusResult(name, status), or cb(err, 1 | 0). */
S.queryUserStatus = function (account, cb) {
  need(account, "string", "account");
  const r = { op: "queryUserStatus", account };
  this._send(r, { key: "qs\n" + account, cb: optCb(cb), args: valueOr(r.op, (ev) => Number(ev.status)) });
};

/** setAttr(name, value): sets one of the user's own attributes; "" deletes it. Failures: onError. */
S.setAttr = function (name, value) {
  const r = { op: "setAttr", name: need(name, "string", "name"), value: need(value, "string", "value") };
  if (this._large(r, null, value, MAX_USER_ATTR, "value")) return;
  this._send(r);
};

/** getAttr(name, cb): onUserAttrResult(account, name, value), or cb(err, value). */
S.getAttr = function (name, cb) {
  need(name, "string", "name");
  this._send({ op: "getAttr", name }, { key: `ua\n${this.account}\n${name}`, cb: optCb(cb), args: valueOr("getAttr", (ev) => ev.value || "") });
};

/** getAttrAll(cb): onUserAttrAllResult(account, json), or cb(err, object). */
S.getAttrAll = function (cb) {
  this._send({ op: "getAttrAll" }, { key: "uaa\n" + this.account, cb: optCb(cb), args: valueOr("getAttrAll", (ev) => parseJSON(ev.value || "{}")) });
};

/** getUserAttr(account, name, cb): onUserAttrResult, or cb(err, value). */
S.getUserAttr = function (account, name, cb) {
  need(account, "string", "account");
  need(name, "string", "name");
  this._send({ op: "getUserAttr", account, name }, { key: `ua\n${account}\n${name}`, cb: optCb(cb), args: valueOr("getUserAttr", (ev) => ev.value || "") });
};

/** getUserAttrAll(account, cb): onUserAttrAllResult, or cb(err, object). */
S.getUserAttrAll = function (account, cb) {
  need(account, "string", "account");
  this._send({ op: "getUserAttrAll", account }, { key: "uaa\n" + account, cb: optCb(cb), args: valueOr("getUserAttrAll", (ev) => parseJSON(ev.value || "{}")) });
};

/** channelQueryUserNum(channel, cb): onChannelQueryUserNumResult, or cb(err, num). */
S.channelQueryUserNum = function (channel, cb) {
  need(channel, "string", "channel");
  this._send({ op: "channelQueryUserNum", channelID: channel }, {
    key: "qn\n" + channel, cb: optCb(cb),
    args: (ev) => (ev.ecode ? [errOf(ev, "channelQueryUserNum"), 0] : [null, ev.num || 0]),
  });
};

/** channelQueryUserIsIn(channel, account, cb): onChannelQueryUserIsIn, or cb(err, 1 | 0). */
S.channelQueryUserIsIn = function (channel, account, cb) {
  need(channel, "string", "channel");
  need(account, "string", "account");
  this._send({ op: "channelQueryUserIsIn", channelID: channel, account }, {
    key: `qi\n${channel}\n${account}`, cb: optCb(cb), args: valueOr("channelQueryUserIsIn", (ev) => ev.isIn || 0),
  });
};

/**
 * channelJoin(name) joins a channel and returns its Channel; set its
 * callbacks before the current task ends. The special channels
 * _agora_user_online and _agora_channel_event are joined the same way.
 */
S.channelJoin = function (name) {
  need(name, "string", "name");
  let ch = this._channels.get(name);
  if (!ch) {
    ch = new Channel(this, name);
    this._channels.set(name, ch);
  }
  this._send({ op: "channelJoin", channelID: name });
  return ch;
};

/** channelInviteUser2(channel, peer, extra) invites peer and returns the Call. */
S.channelInviteUser2 = function (channel, peer, extra) {
  need(channel, "string", "channel");
  need(peer, "string", "peer");
  extra = opt(extra, "string", "extra", "");
  return this._invite({ op: "channelInviteUser2", channelID: channel, account: peer, extra }, peer, extra);
};

/** channelInviteUser(channel, peer, uid) invites peer without extra. */
S.channelInviteUser = function (channel, peer, uid) {
  need(channel, "string", "channel");
  need(peer, "string", "peer");
  return this._invite({ op: "channelInviteUser", channelID: channel, account: peer, uid: opt(uid, "number", "uid", 0) }, peer, "");
};

/** channelInvitePhone(channel, phoneNum, uid): needs a SIP gateway; fails (700). */
S.channelInvitePhone = function (channel, phoneNum, uid) {
  return this._invite({ op: "channelInvitePhone", channelID: need(channel, "string", "channel"), phoneNum: need(phoneNum, "string", "phoneNum"), uid: opt(uid, "number", "uid", 0) }, phoneNum, "");
};

/** channelInvitePhone2(channel, phoneNum, sourcesNum): needs a SIP gateway; fails (700). */
S.channelInvitePhone2 = function (channel, phoneNum, sourcesNum) {
  return this._invite({ op: "channelInvitePhone2", channelID: need(channel, "string", "channel"), phoneNum: need(phoneNum, "string", "phoneNum"), sourcesNum: need(sourcesNum, "string", "sourcesNum") }, phoneNum, "");
};

/** channelInvitePhone3(channel, phoneNum, sourcesNum, extra): needs a SIP gateway; fails (700). */
S.channelInvitePhone3 = function (channel, phoneNum, sourcesNum, extra) {
  extra = opt(extra, "string", "extra", "");
  return this._invite({ op: "channelInvitePhone3", channelID: need(channel, "string", "channel"), phoneNum: need(phoneNum, "string", "phoneNum"), sourcesNum: need(sourcesNum, "string", "sourcesNum"), extra }, phoneNum, extra);
};

S._invite = function (r, peer, extra) {
  const call = new Call(this, r.channelID, peer, extra);
  this._calls.set(call._key, call);
  if (!this._large(r, null, extra, MAX_MSG, "extra")) this._send(r);
  return call;
};

// ---- Channel ----

const CHANNEL_CALLBACKS = [
  "onChannelJoined", "onChannelJoinFailed", "onChannelLeaved", "onChannelUserJoined", "onChannelUserLeaved",
  "onChannelUserList", "onChannelAttrUpdated", "onMessageChannelReceive",
];

function Channel(session, name) {
  this.name = name;
  this.session = session;
}
for (const name of CHANNEL_CALLBACKS) Channel.prototype[name] = noop;

const C = Channel.prototype;

/** messageChannelSend(msg, cb): cb(null) once the message is passed on, cb(err) if not. */
C.messageChannelSend = function (msg, cb, msgID) {
  return this.session._message({ op: "messageChannelSend", channelID: this.name }, msg, cb, msgID);
};

/** channelLeave(cb): onChannelLeaved(602), and cb(null); cb(err) if it failed. */
C.channelLeave = function (cb) {
  this.session._send({ op: "channelLeave", channelID: this.name }, { key: "cl\n" + this.name, cb: optCb(cb), args: okOrErr("channelLeave") });
};

/** channelSetAttr(name, value, cb): onChannelAttrUpdated(name, value, "update") at every member. */
C.channelSetAttr = function (name, value, cb) {
  need(name, "string", "name");
  need(value, "string", "value");
  const r = { op: "channelSetAttr", channelID: this.name, name, value };
  const p = { key: `ca\nupdate\n${this.name}\n${name}`, cb: optCb(cb), args: okOrErr(r.op) };
  if (!this.session._large(r, p, value, MAX_CHAN_ATTR, "value")) this.session._send(r, p);
};

/** channelDelAttr(name, cb): onChannelAttrUpdated(name, "", "del") at every member. */
C.channelDelAttr = function (name, cb) {
  need(name, "string", "name");
  this.session._send({ op: "channelDelAttr", channelID: this.name, name }, { key: `ca\ndel\n${this.name}\n${name}`, cb: optCb(cb), args: okOrErr("channelDelAttr") });
};

/** channelClearAttr(cb): onChannelAttrUpdated("", "", "clear") at every member. */
C.channelClearAttr = function (cb) {
  this.session._send({ op: "channelClearAttr", channelID: this.name }, { key: `ca\nclear\n${this.name}`, cb: optCb(cb), args: okOrErr("channelClearAttr") });
};

// ---- Call ----

const CALL_CALLBACKS = [
  "onInviteReceivedByPeer", "onInviteAcceptedByPeer", "onInviteRefusedByPeer", "onInviteFailed",
  "onInviteEndByPeer", "onInviteEndByMyself", "onInviteMsg",
];

function Call(session, channelName, peer, extra) {
  this.channelName = channelName;
  this.peer = peer;
  this.extra = extra;
  this.session = session;
  this._key = channelName + "\n" + peer;
}
for (const name of CALL_CALLBACKS) Call.prototype[name] = noop;

const K = Call.prototype;

K._req = function (op, more) {
  const s = this.session;
  const r = Object.assign({ op, channelID: this.channelName, account: this.peer }, more);
  s._calls.set(this._key, this);
  if (r.extra !== undefined && s._large(r, null, r.extra, MAX_MSG, "extra")) return;
  s._send(r);
};

/** channelInviteAccept(extra): the caller gets onInviteAcceptedByPeer(extra). */
K.channelInviteAccept = function (extra) {
  this._req("channelInviteAccept", { extra: opt(extra, "string", "extra", "") });
};

/** channelInviteRefuse(extra): the caller gets onInviteRefusedByPeer(extra). */
K.channelInviteRefuse = function (extra) {
  this._req("channelInviteRefuse", { extra: opt(extra, "string", "extra", "") });
};

/** channelInviteEnd(): onInviteEndByMyself here, onInviteEndByPeer at the peer. */
K.channelInviteEnd = function () {
  this._req("channelInviteEnd", {});
};

/** channelInviteDTMF(dtmf): needs a SIP gateway; fails with onInviteFailed(extra, 700). */
K.channelInviteDTMF = function (dtmf) {
  need(dtmf, "string", "dtmf");
  this.session._calls.set(this._key, this);
  this.session._send({ op: "channelInviteDTMF", channelID: this.channelName, phoneNum: this.peer, dtmf });
};

const AgoraSig = { Signal, Session, Channel, Call, VERSION, SDK_VERSION_CODE, SUBPROTOCOL };

export { Signal, Session, Channel, Call, VERSION, SDK_VERSION_CODE, SUBPROTOCOL, AgoraSig as default };
