// Type declarations of Switchboard's browser SDK (agorasig.mjs, and the
// globals AgoraSig and Signal of agorasig.js). docs/sdk-js.md is the manual.

// Scripts (not modules) that load agorasig.js see these as the global AgoraSig.
export as namespace AgoraSig;

/** The SDK's version, as getSDKVersion() returns it. */
export declare const VERSION: string;
/** The SDK's version in the API's getSdkVersion encoding: 1010400000 is 1.4.0.0. */
export declare const SDK_VERSION_CODE: number;
/** The WebSocket subprotocol the SDK offers: switchboard.v1. */
export declare const SUBPROTOCOL: string;

/** A failure given to a per-request callback, and to onError. */
export interface SigError {
  /** The request (its op), or the callback that threw. */
  name: string;
  /** The code of the Signaling API's AGORA_E_CODE. */
  ecode: number;
  /** A description for people; never holds a token or a secret. */
  desc: string;
  /** The same as desc, under AgoraSig.js's name. */
  reason: string;
  /** The exception, when an app's callback threw. */
  error?: unknown;
}

/** A callback that answers one request: err is null on success. */
export type Done = (err: SigError | null) => void;
/** A callback that answers one request with a value. */
export type Answer<T> = (err: SigError | null, value: T) => void;

export interface SignalOptions {
  /**
   * The edge's WebSocket URL, or several, tried round-robin. Default: the
   * page's own host at /ws (wss: under https:), or ws://127.0.0.1:7400/ws
   * outside a page.
   */
  url?: string | string[];
  /** A WebSocket constructor to use instead of the platform's. */
  WebSocket?: new (url: string, protocols?: string | string[]) => WebSocket;
  /** How long a message waits for its answer before it fails with 401, in ms (15000). */
  messageTimeout?: number;
}

export type LogLevel = "error" | "warn" | "info" | "debug" | 0 | 1 | 2 | 3;

/** The SDK instance of an app: Signal(appId, options), with or without new. */
export interface Signal {
  readonly appId: string;
  /** The SDK's version, "1.4.0". */
  getSDKVersion(): string;
  /** Turns the SDK's log lines on or off: to the console and to each session's onLog. */
  setDoLog(enabled: boolean, level?: LogLevel): void;
  /**
   * Logs in and returns the session; a lost connection is retried up to
   * reconnectCount times (10) within reconnectTime seconds (30).
   */
  login(account: string, token: string, reconnectCount?: number, reconnectTime?: number): Session;
  /** login with the API's login2 defaults: 30 s, 3 attempts. */
  login2(account: string, token: string, retryTimeInS?: number, retryCount?: number): Session;
  /** Logs every session of this instance out. */
  destroy(): void;
}

export interface SignalConstructor {
  (appId: string, options?: SignalOptions): Signal;
  new (appId: string, options?: SignalOptions): Signal;
  readonly prototype: Signal;
}

export declare const Signal: SignalConstructor;

/** 0 not logged in, 1 logging in, 2 logged in, 3 reconnecting. */
export type Status = 0 | 1 | 2 | 3;

/** The session's callbacks: the API's, with its parameters. Set those you need. */
export interface SessionCallbacks {
  onLoginSuccess(uid: number): void;
  /** desc, when given, says what went wrong (an unreachable or foreign server). */
  onLoginFailed(ecode: number, desc?: string): void;
  /** The session is over: 101 logout, 102 lost for good, 103 logged in elsewhere, 105 token expired. */
  onLogout(ecode: number, desc?: string): void;
  /** The connection was lost; attempt nretry (1, 2, …) begins. */
  onReconnecting(nretry: number): void;
  /** The session is back, nothing missed. */
  onReconnected(fd: number): void;
  onError(evt: SigError): void;
  onLog(txt: string): void;
  onMessageInstantReceive(account: string, uid: number, msg: string): void;
  onMessageSendSuccess(messageID: string): void;
  onMessageSendError(messageID: string, ecode: number): void;
  onInviteReceived(call: Call): void;
  onQueryUserStatusResult(name: string, status: string): void;
  onUserAttrResult(account: string, name: string, value: string): void;
  onUserAttrAllResult(account: string, value: string): void;
  onInvokeRet(callID: string, err: string, resp: string): void;
  onChannelQueryUserNumResult(channelID: string, ecode: number, num: number): void;
  onChannelQueryUserIsIn(channelID: string, account: string, isIn: number): void;
}

/** One login, from Signal.login to its onLoginFailed or onLogout. */
export interface Session extends SessionCallbacks {
  readonly account: string;
  /** getStatus(), as a property. */
  readonly state: Status;
  logout(): void;
  getStatus(): Status;
  isOnline(): boolean;
  /** The API's encoding of the version: 1010400000. */
  getSdkVersion(): number;
  /** Copies handler's on… functions onto the session. */
  callbackSet(handler: Partial<SessionCallbacks>): void;
  callbackGet(): Session;
  /** Returns the message ID, which onMessageSendSuccess/onMessageSendError name. */
  messageInstantSend(peer: string, msg: string, cb?: Done, msgID?: string): string;
  messageChannelSendForce(channel: string, msg: string, cb?: Done, msgID?: string): string;
  /** Obsolete in the API; needs a SIP gateway, so it fails (1001). */
  messageDTMFSend(uid: number, msg: string, cb?: Done): void;
  /** A function of the API's invoke table; resp is its parsed reply. Returns the call ID. */
  invoke(name: string, args: object | string, cb?: (err: SigError | null, resp: any) => void): string;
  queryUserStatus(account: string, cb?: Answer<number>): void;
  setAttr(name: string, value: string): void;
  getAttr(name: string, cb?: Answer<string>): void;
  getAttrAll(cb?: Answer<Record<string, string>>): void;
  getUserAttr(account: string, name: string, cb?: Answer<string>): void;
  getUserAttrAll(account: string, cb?: Answer<Record<string, string>>): void;
  channelQueryUserNum(channel: string, cb?: Answer<number>): void;
  channelQueryUserIsIn(channel: string, account: string, cb?: Answer<number>): void;
  /** Joins a channel (also _agora_user_online and _agora_channel_event). */
  channelJoin(name: string): Channel;
  channelInviteUser(channel: string, peer: string, uid?: number): Call;
  channelInviteUser2(channel: string, peer: string, extra?: string): Call;
  channelInvitePhone(channel: string, phoneNum: string, uid?: number): Call;
  channelInvitePhone2(channel: string, phoneNum: string, sourcesNum: string): Call;
  channelInvitePhone3(channel: string, phoneNum: string, sourcesNum: string, extra?: string): Call;
}

export declare const Session: { readonly prototype: Session };

/** A user as onChannelUserList gives it: [account, uid]. */
export type ChannelUser = [account: string, uid: number];

export interface ChannelCallbacks {
  onChannelJoined(): void;
  onChannelJoinFailed(ecode: number): void;
  onChannelLeaved(ecode: number): void;
  onChannelUserJoined(account: string, uid: number): void;
  onChannelUserLeaved(account: string, uid: number): void;
  /** The members after a join, the joiner included, in the order they joined; n counts all. */
  onChannelUserList(users: ChannelUser[], n: number): void;
  onChannelAttrUpdated(name: string, value: string, type: "update" | "del" | "clear" | string): void;
  onMessageChannelReceive(account: string, uid: number, msg: string): void;
}

export interface Channel extends ChannelCallbacks {
  readonly name: string;
  readonly session: Session;
  messageChannelSend(msg: string, cb?: Done, msgID?: string): string;
  channelLeave(cb?: Done): void;
  channelSetAttr(name: string, value: string, cb?: Done): void;
  channelDelAttr(name: string, cb?: Done): void;
  channelClearAttr(cb?: Done): void;
}

export declare const Channel: { readonly prototype: Channel };

export interface CallCallbacks {
  onInviteReceivedByPeer(extra: string): void;
  onInviteAcceptedByPeer(extra: string): void;
  onInviteRefusedByPeer(extra: string): void;
  onInviteFailed(extra: string, ecode: number): void;
  onInviteEndByPeer(extra: string): void;
  onInviteEndByMyself(extra: string): void;
  /** Never called: it needs a SIP gateway. */
  onInviteMsg(extra: string, msgType: string, msgData: string): void;
}

/** An invitation, made (channelInviteUser2) or received (onInviteReceived). */
export interface Call extends CallCallbacks {
  readonly channelName: string;
  /** The other side's account (or phone number). */
  readonly peer: string;
  /** The extra the invitation came with (received calls). */
  readonly extra: string;
  readonly session: Session;
  channelInviteAccept(extra?: string): void;
  channelInviteRefuse(extra?: string): void;
  channelInviteDTMF(dtmf: string): void;
  channelInviteEnd(): void;
}

export declare const Call: { readonly prototype: Call };

declare const AgoraSig: {
  Signal: SignalConstructor;
  Session: typeof Session;
  Channel: typeof Channel;
  Call: typeof Call;
  VERSION: string;
  SDK_VERSION_CODE: number;
  SUBPROTOCOL: string;
};
export default AgoraSig;
