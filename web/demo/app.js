// Switchboard's demo: a small chat app on the browser SDK (AgoraSig.js 1.4's
// shape), loaded from the server that serves this page. Plain DOM code, no
// framework and no build step. Every text that came from the network goes
// into the page through textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const ONLINE = '_agora_user_online';
const TOPIC = 'topic';
const NO_TOKEN = '_no_need_token';

const conf = await (await fetch('config.json', { cache: 'no-cache' })).json();
const SDK = await import(conf.sdk);
const wsURL = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + conf.wsPath;

const state = {
  session: null,
  account: '',
  online: new Map(), // account -> uid
  presence: null, // the _agora_user_online Channel
  convs: new Map(), // '#name' or '@peer' -> conversation
  current: '',
  call: null, // { call, peer, role, state, since }
};

// ---- the SDK ---------------------------------------------------------------

// signal makes the SDK's Signal for our app, pointed at this page's server.
function signal() {
  const Signal = SDK.Signal ?? SDK.default?.Signal ?? SDK.default;
  return Signal(conf.appId, { url: wsURL });
}

// sent turns a send callback's arguments into a failure code, or 0.
function failure(err) {
  if (err === undefined || err === null || err === 0 || err === false) return 0;
  if (typeof err === 'number') return err;
  return err.ecode ?? err.code ?? 1000;
}

// ---- connection state ----------------------------------------------------------

const STATES = {
  0: ['offline', 'Offline'],
  1: ['connecting', 'Connecting…'],
  2: ['online', 'Online'],
  3: ['reconnecting', 'Reconnecting…'],
};

function showConnState() {
  const s = state.session ? state.session.getStatus() : 0;
  const [key, label] = STATES[s] ?? STATES[0];
  const pill = $('conn');
  if (pill.dataset.state !== key) {
    pill.dataset.state = key;
    pill.querySelector('.pill-label').textContent = label;
    $('banner').hidden = key !== 'reconnecting';
  }
}
setInterval(showConnState, 200);

// ---- login ----------------------------------------------------------------------

$('app-id').textContent = conf.appId;
$('account').value = localStorage.getItem('sb-demo-account') ?? '';

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const account = $('account').value.trim();
  if (!/^\S{1,128}$/u.test(account)) {
    loginError('An account name is 1 to 128 characters, without spaces.');
    return;
  }
  $('login-error').hidden = true;
  $('login-submit').disabled = true;
  localStorage.setItem('sb-demo-account', account);
  login(account);
});

function loginError(text) {
  $('login-error').textContent = text;
  $('login-error').hidden = false;
  $('login-submit').disabled = false;
}

const LOGIN_FAILURES = {
  201: 'Cannot reach the server.',
  204: 'The token has expired.',
  206: 'This app does not accept the demo’s token (_no_need_token).',
  207: 'Signed in somewhere else meanwhile.',
  209: 'That account name is not allowed.',
};

function login(account) {
  const session = signal().login(account, NO_TOKEN);
  state.session = session;
  state.account = account;
  showConnState();
  session.onLoginSuccess = () => {
    $('login').hidden = true;
    $('workspace').hidden = false;
    $('logout').hidden = false;
    $('me').hidden = false;
    $('me').replaceChildren(avatar(account), text('span', account, 'me-name'));
    $('login-submit').disabled = false;
    state.presence = joinPresence(session);
    openChannel('general');
  };
  session.onLoginFailed = (code) => {
    state.session = null;
    loginError(LOGIN_FAILURES[code] ?? `Sign-in failed (code ${code}).`);
  };
  session.onLogout = (code) => {
    const why = {
      101: 'You signed out.',
      102: 'The connection was lost for too long.',
      103: 'You signed in somewhere else.',
      105: 'Your token expired.',
    }[code] ?? `Signed out (code ${code}).`;
    reset();
    if (code !== 101) loginError(why);
  };
  session.onMessageInstantReceive = (from, _uid, msg) => {
    addMessage(dm(from), { from, text: msg });
  };
  session.onInviteReceived = (call) => incomingCall(call);
  session.onReconnecting = showConnState;
  session.onReconnected = showConnState;
  session.onError = (evt) => toast(`Error: ${evt?.desc ?? evt?.ecode ?? evt}`);
}

$('logout').addEventListener('click', () => state.session?.logout());

function reset() {
  endCallUI();
  state.session = null;
  state.online.clear();
  state.convs.clear();
  state.current = '';
  $('workspace').hidden = true;
  $('login').hidden = false;
  $('logout').hidden = true;
  $('me').hidden = true;
  renderSidebar();
  showConnState();
}

// ---- presence ------------------------------------------------------------------

function joinPresence(session) {
  const ch = session.channelJoin(ONLINE);
  ch.onChannelUserList = (users) => {
    state.online.clear();
    for (const [account, uid] of users) state.online.set(account, uid);
    renderOnline();
  };
  ch.onChannelUserJoined = (account, uid) => {
    state.online.set(account, uid);
    renderOnline();
  };
  ch.onChannelUserLeaved = (account) => {
    state.online.delete(account);
    renderOnline();
  };
  ch.onChannelJoinFailed = (code) => toast(`Presence unavailable (code ${code})`);
  return ch;
}

function renderOnline() {
  const others = [...state.online.keys()].filter((a) => a !== state.account).sort();
  $('online-count').textContent = String(others.length);
  $('online').replaceChildren(...others.map((account) => {
    const li = person(account, 'online-user');
    li.title = `Message ${account}`;
    li.addEventListener('click', () => show(dm(account).key));
    return li;
  }));
  if (others.length === 0) $('online').append(text('li', 'Nobody else yet', 'quiet'));
  if (state.current.startsWith('@')) renderHeader();
}

// ---- conversations ----------------------------------------------------------------

function conversation(key, kind, name) {
  let c = state.convs.get(key);
  if (!c) {
    c = { key, kind, name, messages: [], unread: 0, members: new Map(), topic: '', channel: null, joined: false };
    state.convs.set(key, c);
    renderSidebar();
  }
  return c;
}

const dm = (peer) => conversation('@' + peer, 'dm', peer);

function openChannel(name) {
  const key = '#' + name;
  const existing = state.convs.get(key);
  if (existing?.channel) {
    show(key);
    return;
  }
  const c = conversation(key, 'channel', name);
  const ch = state.session.channelJoin(name);
  c.channel = ch;
  ch.onChannelJoined = () => {
    c.joined = true;
    renderSidebar();
    if (state.current === key) renderHeader();
  };
  ch.onChannelJoinFailed = (code) => {
    toast(`Could not join #${name} (code ${code})`);
    state.convs.delete(key);
    if (state.current === key) state.current = '';
    renderAll();
  };
  ch.onChannelLeaved = () => {
    state.convs.delete(key);
    if (state.current === key) state.current = '';
    renderAll();
  };
  ch.onChannelUserList = (users) => {
    c.members.clear();
    for (const [account, uid] of users) c.members.set(account, uid);
    if (state.current === key) renderHeader();
  };
  ch.onChannelUserJoined = (account, uid) => {
    c.members.set(account, uid);
    addMessage(c, { system: `${account} joined` });
    if (state.current === key) renderHeader();
  };
  ch.onChannelUserLeaved = (account) => {
    c.members.delete(account);
    addMessage(c, { system: `${account} left` });
    if (state.current === key) renderHeader();
  };
  ch.onChannelAttrUpdated = (k, v, type) => {
    if (type === 'clear' || (k === TOPIC && type === 'del')) c.topic = '';
    else if (k === TOPIC) c.topic = v;
    else return;
    if (c.joined) addMessage(c, { system: c.topic ? `Topic: ${c.topic}` : 'Topic cleared' });
    if (state.current === key) renderHeader();
  };
  ch.onMessageChannelReceive = (from, _uid, msg) => addMessage(c, { from, text: msg });
  show(key);
}

$('join-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('join-input').value.trim().replace(/^#/, '');
  if (!/^\S{1,128}$/u.test(name) || name.startsWith('_')) {
    toast('A channel name is 1 to 128 characters, without spaces, not starting with _.');
    return;
  }
  $('join-input').value = '';
  openChannel(name);
});

$('leave').addEventListener('click', () => {
  const c = state.convs.get(state.current);
  if (!c) return;
  if (c.kind === 'channel') {
    c.channel.channelLeave();
  } else {
    state.convs.delete(c.key);
    state.current = '';
    renderAll();
  }
});

function show(key) {
  state.current = key;
  const c = state.convs.get(key);
  if (c) c.unread = 0;
  renderAll();
  $('composer-input').focus();
}

function renderAll() {
  renderSidebar();
  renderHeader();
  renderMessages();
}

function renderSidebar() {
  const entries = [...state.convs.values()];
  const item = (c) => {
    const li = document.createElement('li');
    li.className = 'conv' + (c.key === state.current ? ' active' : '');
    li.dataset.testid = c.kind === 'channel' ? 'channel-item' : 'dm-item';
    li.dataset[c.kind === 'channel' ? 'channel' : 'account'] = c.name;
    if (c.kind === 'channel') li.append(text('span', '#', 'hash'));
    else li.append(avatar(c.name, 'small'));
    li.append(text('span', c.name, 'conv-name'));
    if (c.unread > 0) {
      const b = text('span', String(c.unread), 'badge');
      b.dataset.testid = 'unread';
      li.append(b);
    }
    li.addEventListener('click', () => show(c.key));
    return li;
  };
  $('channels').replaceChildren(...entries.filter((c) => c.kind === 'channel').map(item));
  $('dms').replaceChildren(...entries.filter((c) => c.kind === 'dm').map(item));
}

function renderHeader() {
  const c = state.convs.get(state.current);
  for (const id of ['chat-header', 'chat-body', 'composer']) $(id).hidden = !c;
  $('empty').hidden = !!c;
  if (!c) return;
  const isChannel = c.kind === 'channel';
  $('chat-title').textContent = isChannel ? '#' + c.name : c.name;
  $('topic-row').hidden = !isChannel;
  $('topic').textContent = c.topic || 'No topic yet';
  $('topic').classList.toggle('quiet', !c.topic);
  $('member-count').hidden = !isChannel;
  $('members').hidden = !isChannel;
  $('leave').textContent = isChannel ? 'Leave' : 'Close';
  $('call-button').hidden = isChannel;
  $('call-button').disabled = !state.online.has(c.name) || !!state.call;
  $('composer-input').placeholder = isChannel ? `Message #${c.name}` : `Message ${c.name}`;
  if (isChannel) {
    const n = c.members.size;
    $('member-count').textContent = `${n} ${n === 1 ? 'member' : 'members'}`;
    $('member-count').dataset.count = String(n);
    $('member-list').replaceChildren(...[...c.members.keys()].sort().map((account) => {
      const li = person(account, 'member');
      if (account !== state.account) li.addEventListener('click', () => show(dm(account).key));
      return li;
    }));
  }
}

$('member-count').addEventListener('click', () => $('members').classList.toggle('collapsed'));

// ---- topic ---------------------------------------------------------------------

$('topic-edit').addEventListener('click', () => {
  const c = state.convs.get(state.current);
  $('topic-input').value = c?.topic ?? '';
  $('topic-form').hidden = false;
  $('topic-row').hidden = true;
  $('topic-input').focus();
});

function closeTopicForm() {
  $('topic-form').hidden = true;
  $('topic-row').hidden = false;
}
$('topic-cancel').addEventListener('click', closeTopicForm);

$('topic-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const c = state.convs.get(state.current);
  const topic = $('topic-input').value.trim();
  closeTopicForm();
  if (!c?.channel) return;
  const done = (err) => {
    const code = failure(err);
    if (code) toast(`The topic was not saved (code ${code})`);
  };
  if (topic) c.channel.channelSetAttr(TOPIC, topic, done);
  else c.channel.channelDelAttr(TOPIC, done);
});

// ---- messages -------------------------------------------------------------------

function addMessage(c, m) {
  m.at = m.at ?? new Date();
  c.messages.push(m);
  if (c.key === state.current) {
    $('messages').append(messageItem(c, m));
    scrollDown();
  } else if (!m.system) {
    c.unread++;
    renderSidebar();
  }
}

function renderMessages() {
  const c = state.convs.get(state.current);
  $('messages').replaceChildren(...(c ? c.messages.map((m) => messageItem(c, m)) : []));
  scrollDown();
}

function scrollDown() {
  const list = $('messages');
  list.scrollTop = list.scrollHeight;
}

function messageItem(c, m) {
  const li = document.createElement('li');
  if (m.system || m.call) {
    li.className = 'system';
    li.dataset.testid = m.call ? 'call-log' : 'system-message';
    if (m.call) li.dataset.outcome = m.call;
    li.textContent = m.system;
    return li;
  }
  li.className = 'msg' + (m.from === state.account ? ' mine' : '');
  li.dataset.testid = 'message';
  li.dataset.from = m.from;
  li.dataset.conv = c.key;
  if (m.status) li.dataset.status = m.status;
  const head = document.createElement('div');
  head.className = 'msg-head';
  head.append(text('span', m.from, 'msg-from'), text('time', clock(m.at), 'msg-time'));
  if (m.status === 'failed') head.append(text('span', `not delivered (code ${m.code})`, 'msg-failed'));
  const body = document.createElement('div');
  body.append(head, text('p', m.text, 'msg-text'));
  li.append(avatar(m.from), body);
  m.el = li;
  return li;
}

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const c = state.convs.get(state.current);
  const msg = $('composer-input').value;
  if (!c || msg.trim() === '') return;
  $('composer-input').value = '';
  const m = { from: state.account, text: msg, status: 'sending' };
  addMessage(c, m);
  const done = (err) => {
    const code = failure(err);
    m.status = code ? 'failed' : 'sent';
    m.code = code;
    if (m.el?.isConnected) m.el.replaceWith(messageItem(c, m));
  };
  if (c.kind === 'channel') c.channel.messageChannelSend(msg, done);
  else state.session.messageInstantSend(c.name, msg, done);
});

// ---- calls ------------------------------------------------------------------------

const CALL_TEXT = {
  calling: 'Calling…',
  ringing: 'Ringing…',
  incall: 'In call',
  refused: 'Declined',
  cancelled: 'Cancelled',
  ended: 'Call ended',
  failed: 'Call failed',
};

$('call-button').addEventListener('click', () => {
  const c = state.convs.get(state.current);
  if (!c || c.kind !== 'dm' || state.call) return;
  const channel = `call-${state.account}-${Date.now().toString(36)}`;
  const call = state.session.channelInviteUser2(channel, c.name, '');
  watchCall(call, c.name, 'caller');
  setCallState('calling');
});

function incomingCall(call) {
  const peer = call.peer ?? call.account;
  if (state.call) { // busy: one call at a time
    call.channelInviteRefuse(JSON.stringify({ reason: 'busy' }));
    dmLog(peer, 'missed', `Missed call from ${peer} (you were busy)`);
    return;
  }
  watchCall(call, peer, 'callee');
  state.call.state = 'incoming';
  $('call-panel').hidden = true; // the last call's outcome
  $('incoming-who').textContent = peer;
  $('incoming-avatar').replaceWith(avatar(peer, 'big', 'incoming-avatar'));
  $('incoming').hidden = false;
  $('call-accept').focus();
}

function watchCall(call, peer, role) {
  state.call = { call, peer, role, state: '', since: 0 };
  const mine = () => state.call?.call === call;
  call.onInviteReceivedByPeer = () => mine() && state.call.state === 'calling' && setCallState('ringing');
  call.onInviteAcceptedByPeer = () => mine() && setCallState('incall');
  call.onInviteRefusedByPeer = () => mine() && finishCall('refused', `${peer} declined the call`);
  call.onInviteFailed = (_extra, code) => mine() && finishCall('failed', `Call to ${peer} failed${code ? ` (code ${code})` : ''}`);
  call.onInviteEndByPeer = () => {
    if (!mine()) return;
    if (state.call.state === 'incoming') finishCall('missed', `Missed call from ${peer}`);
    else finishCall('ended', `${peer} ended the call${duration()}`);
  };
  call.onInviteEndByMyself = () => {
    if (!mine()) return;
    if (state.call.state === 'incall') finishCall('ended', `Call ended${duration()}`);
    else finishCall('cancelled', `Call to ${peer} cancelled`);
  };
}

// The call panel counts the length of a call in progress.
setInterval(() => {
  if (state.call?.state === 'incall') $('call-status').textContent = CALL_TEXT.incall + duration();
}, 1000);

function duration() {
  if (!state.call?.since) return '';
  const s = Math.round((Date.now() - state.call.since) / 1000);
  return ` · ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function setCallState(s) {
  const cs = state.call;
  cs.state = s;
  if (s === 'incall' && !cs.since) cs.since = Date.now();
  $('incoming').hidden = true;
  const panel = $('call-panel');
  panel.hidden = false;
  panel.dataset.callState = s;
  $('call-who').textContent = cs.peer;
  $('call-avatar').replaceWith(avatar(cs.peer, '', 'call-avatar'));
  $('call-status').textContent = CALL_TEXT[s];
  const live = s === 'calling' || s === 'ringing' || s === 'incall';
  $('call-end').hidden = !live;
  $('call-end').textContent = s === 'incall' ? 'End' : 'Cancel';
  $('call-close').hidden = live;
  renderHeader();
}

// finishCall ends the call in the UI: the panel says how it ended until it
// is closed or the next call starts, and the conversation keeps a line.
function finishCall(outcome, line) {
  const cs = state.call;
  dmLog(cs.peer, outcome, line);
  if (outcome === 'missed') {
    state.call = null;
    $('incoming').hidden = true;
    toast(line);
    renderHeader();
    return;
  }
  setCallState(outcome);
  state.call = null;
  renderHeader();
}

function dmLog(peer, outcome, line) {
  addMessage(dm(peer), { system: line, call: outcome });
}

$('call-end').addEventListener('click', () => state.call?.call.channelInviteEnd());
$('call-close').addEventListener('click', endCallUI);
$('call-accept').addEventListener('click', () => {
  const cs = state.call;
  if (!cs || cs.state !== 'incoming') return;
  cs.call.channelInviteAccept('');
  show(dm(cs.peer).key);
  setCallState('incall');
});
$('call-refuse').addEventListener('click', () => {
  const cs = state.call;
  if (!cs || cs.state !== 'incoming') return;
  cs.call.channelInviteRefuse('');
  $('incoming').hidden = true;
  finishCall('refused', `You declined a call from ${cs.peer}`);
});

function endCallUI() {
  try {
    if (state.call && state.call.state !== 'incoming') state.call.call.channelInviteEnd();
  } catch (e) {
    // the session is gone already (a logout): nothing to end
  }
  state.call = null;
  $('call-panel').hidden = true;
  $('call-panel').dataset.callState = '';
  $('incoming').hidden = true;
}

// ---- small helpers --------------------------------------------------------------------

function text(tag, s, cls) {
  const el = document.createElement(tag);
  el.textContent = s;
  if (cls) el.className = cls;
  return el;
}

function hue(s) {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

function initial(name) {
  return document.createTextNode([...name][0]?.toUpperCase() ?? '?');
}

function avatar(name, size = '', id = '') {
  const el = document.createElement('span');
  if (id) el.id = id;
  el.className = `avatar hue-${Math.floor(hue(name) / 30)} ${size}`.trim();
  el.append(initial(name));
  el.setAttribute('aria-hidden', 'true');
  return el;
}

function person(account, testid) {
  const li = document.createElement('li');
  li.className = 'person';
  li.dataset.testid = testid;
  li.dataset.account = account;
  li.append(avatar(account, 'small'), text('span', account, 'conv-name'));
  if (state.online.has(account)) li.append(text('span', '', 'presence'));
  if (account === state.account) li.append(text('span', 'you', 'you'));
  return li;
}

function clock(d) {
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function toast(s) {
  const el = text('div', s, 'toast');
  el.dataset.testid = 'toast';
  $('toasts').append(el);
  setTimeout(() => el.remove(), 6000);
}
