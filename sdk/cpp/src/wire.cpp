// wire.cpp: the checks, failure events and callback calls of wire.hpp.
#include "wire.hpp"

#include <vector>

namespace switchboard {

bool takeString(char const* p, size_t n, std::string& out) {
    out.clear();
    if (n == 0) return true;
    if (p == nullptr) return false;
    // One byte at a time, so that a string shorter than n is never read past
    // its NUL.
    for (size_t i = 0; i < n; ++i) {
        if (p[i] == '\0') return false;
    }
    out.assign(p, n);
    return true;
}

namespace {

// decodeUTF8 walks s one code point at a time; false on invalid UTF-8.
template <class F>
bool forEachCodePoint(std::string const& s, F f) {
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        uint32_t cp;
        size_t len;
        if (c < 0x80) { cp = c; len = 1; }
        else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; len = 2; }
        else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; len = 3; }
        else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; len = 4; }
        else return false;
        if (i + len > s.size()) return false;
        for (size_t k = 1; k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and values past Unicode are invalid.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return false;
        }
        if (!f(cp)) return false;
        i += len;
    }
    return true;
}

bool isSpaceOrControl(uint32_t cp) {
    if (cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0)) return true;
    switch (cp) {
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: case 0xFEFF:
        return true;
    }
    return cp >= 0x2000 && cp <= 0x200B;
}

// Which fields of a request are names, and which have byte limits.
struct Limit { char const* field; size_t max; };

} // namespace

bool validName(std::string const& s) {
    if (s.empty() || s.size() > kMaxNameChars * 4) return false;
    size_t n = 0;
    bool ok = forEachCodePoint(s, [&](uint32_t cp) { ++n; return !isSpaceOrControl(cp); });
    return ok && n <= kMaxNameChars;
}

bool validAppID(std::string const& s) {
    if (s.empty() || s.size() > kMaxAppIDBytes) return false;
    for (char c : s) {
        if (c < 0x21 || c > 0x7E) return false;
    }
    return true;
}

std::string str(json const& j, char const* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return {};
    return it->get<std::string>();
}

int64_t num(json const& j, char const* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return 0;
    if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
    return it->get<int64_t>();
}

bool flag(json const& j, char const* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}

bool checkRequest(json const& req, Fail& why) {
    std::string op = str(req, "op");
    if (op == "login" || op == "login2") {
        if (!validAppID(str(req, "appId")) || !validName(str(req, "account"))) {
            why = Fail::WrongParam;
            return false;
        }
        return true;
    }
    // Names: every field that holds one must follow the rule; message and
    // call IDs only when given (the SDK fills in an empty msgID).
    static char const* const names[] = {"account", "channelID", "name"};
    for (char const* f : names) {
        if (req.contains(f) && !validName(str(req, f))) {
            why = Fail::WrongParam;
            return false;
        }
    }
    for (char const* f : {"msgID", "callID"}) {
        std::string v = str(req, f);
        if (!v.empty() && !validName(v)) {
            why = Fail::WrongParam;
            return false;
        }
    }
    size_t valueMax = op == "setAttr" ? kMaxUserAttrBytes : kMaxChanAttrBytes;
    Limit limits[] = {{"msg", kMaxMsgBytes}, {"extra", kMaxExtraBytes}, {"req", kMaxReqBytes}, {"value", valueMax}};
    for (auto const& l : limits) {
        if (str(req, l.field).size() > l.max) {
            why = Fail::TooLarge;
            return false;
        }
    }
    return true;
}

bool encode(json const& req, std::string& frame, Fail& why) {
    try {
        frame = req.dump(-1, ' ', false, json::error_handler_t::strict);
    } catch (json::exception const&) {
        why = Fail::WrongParam; // not UTF-8
        return false;
    }
    if (frame.size() > kMaxFrameBytes) {
        why = Fail::TooLarge;
        return false;
    }
    return true;
}

namespace {

bool isOneOf(std::string const& op, std::initializer_list<char const*> ops) {
    for (char const* o : ops) {
        if (op == o) return true;
    }
    return false;
}

// codeFor mirrors protocol.CodeFor for the failures the SDK makes itself.
int codeFor(std::string const& op, Fail why) {
    switch (why) {
    case Fail::WrongParam: return WrongParam;
    case Fail::TooLarge: return LargeParam;
    case Fail::NotLoggedIn: return NotLoggedIn;
    case Fail::QueueFull: return GeneralFailed;
    default: break;
    }
    bool timeout = why == Fail::Timeout;
    if (op == "login" || op == "login2") return LoginNet;
    if (op == "channelJoin") return 300;
    if (isOneOf(op, {"messageInstantSend", "messageChannelSend", "messageChannelSendForce"})) return timeout ? 401 : 400;
    if (op == "channelQueryUserNum") return timeout ? 501 : 500;
    if (op == "channelLeave") return 600;
    if (isOneOf(op, {"channelInviteUser", "channelInviteUser2", "channelInviteAccept", "channelInviteRefuse", "channelInviteEnd"})) {
        return timeout ? 704 : 702;
    }
    return timeout ? 1000 : GeneralFailed;
}

} // namespace

json failureEvent(json const& req, Fail why, std::string const& desc) {
    std::string op = str(req, "op");
    int code = codeFor(op, why);
    if (op == "login" || op == "login2") return {{"ev", "onLoginFailed"}, {"ecode", code}};
    if (op == "channelJoin") return {{"ev", "onChannelJoinFailed"}, {"channelID", str(req, "channelID")}, {"ecode", code}};
    if (isOneOf(op, {"messageInstantSend", "messageChannelSend", "messageChannelSendForce"})) {
        return {{"ev", "onMessageSendError"}, {"messageID", str(req, "msgID")}, {"ecode", code}};
    }
    if (op == "channelQueryUserNum") {
        return {{"ev", "onChannelQueryUserNumResult"}, {"channelID", str(req, "channelID")}, {"ecode", code}};
    }
    if (op == "invoke") {
        return {{"ev", "onInvokeRet"}, {"callID", str(req, "callID")}, {"err", std::to_string(code)},
                {"resp", json{{"desc", desc}}.dump()}};
    }
    if (isOneOf(op, {"channelInviteUser", "channelInviteUser2", "channelInviteAccept", "channelInviteRefuse",
                     "channelInviteEnd", "channelInviteDTMF", "channelInvitePhone", "channelInvitePhone2",
                     "channelInvitePhone3"})) {
        std::string account = str(req, "account");
        if (account.empty()) account = str(req, "phoneNum");
        return {{"ev", "onInviteFailed"}, {"channelID", str(req, "channelID")}, {"account", account},
                {"ecode", code}, {"extra", str(req, "extra")}};
    }
    return {{"ev", "onError"}, {"name", op}, {"ecode", code}, {"desc", desc}};
}

void deliver(agora_sdk_win::ICallBack* cb, json const& ev) {
    std::string e = str(ev, "ev");
    // Strings live until the callback returns.
    std::string channel = str(ev, "channelID"), account = str(ev, "account"), name = str(ev, "name"),
                value = str(ev, "value"), extra = str(ev, "extra"), msg = str(ev, "msg");
    auto uid = static_cast<uint32_t>(num(ev, "uid"));
    int ecode = static_cast<int>(num(ev, "ecode"));
    int fd = static_cast<int>(num(ev, "fd"));
#define S(x) x.c_str(), x.size()
    if (e == "onLoginSuccess") cb->onLoginSuccess(uid, fd);
    else if (e == "onLoginFailed") cb->onLoginFailed(ecode);
    else if (e == "onLogout") cb->onLogout(ecode);
    else if (e == "onReconnected") cb->onReconnected(fd);
    else if (e == "onReconnecting") cb->onReconnecting(static_cast<uint32_t>(num(ev, "nretry")));
    else if (e == "onLog") cb->onLog(S(msg));
    else if (e == "onQueryUserStatusResult") { std::string st = str(ev, "status"); cb->onQueryUserStatusResult(S(name), S(st)); }
    else if (e == "onError") { std::string desc = str(ev, "desc"); cb->onError(S(name), ecode, S(desc)); }
    else if (e == "onInvokeRet") {
        std::string id = str(ev, "callID"), err = str(ev, "err"), resp = str(ev, "resp");
        cb->onInvokeRet(S(id), S(err), S(resp));
    }
    else if (e == "onUserAttrResult") cb->onUserAttrResult(S(account), S(name), S(value));
    else if (e == "onUserAttrAllResult") cb->onUserAttrAllResult(S(account), S(value));
    else if (e == "onMessageSendSuccess") { std::string id = str(ev, "messageID"); cb->onMessageSendSuccess(S(id)); }
    else if (e == "onMessageSendError") { std::string id = str(ev, "messageID"); cb->onMessageSendError(S(id), ecode); }
    else if (e == "onMessageInstantReceive") cb->onMessageInstantReceive(S(account), uid, S(msg));
    else if (e == "onMessageChannelReceive") cb->onMessageChannelReceive(S(channel), S(account), uid, S(msg));
    else if (e == "onChannelJoined") cb->onChannelJoined(S(channel));
    else if (e == "onChannelJoinFailed") cb->onChannelJoinFailed(S(channel), ecode);
    else if (e == "onChannelLeaved") cb->onChannelLeaved(S(channel), ecode);
    else if (e == "onChannelUserJoined") cb->onChannelUserJoined(S(account), uid);
    else if (e == "onChannelUserLeaved") cb->onChannelUserLeaved(S(account), uid);
    else if (e == "onChannelUserList") {
        // Parallel arrays that outlive the call: uids as long as accounts,
        // whatever the edge left out.
        std::vector<std::string> accounts;
        if (auto it = ev.find("accounts"); it != ev.end() && it->is_array()) {
            for (auto const& a : *it) accounts.push_back(a.is_string() ? a.get<std::string>() : std::string());
        }
        std::vector<uint32_t> uids(accounts.size() + 1, 0);
        if (auto it = ev.find("uids"); it != ev.end() && it->is_array()) {
            for (size_t i = 0; i < it->size() && i < accounts.size(); ++i) {
                if ((*it)[i].is_number()) uids[i] = (*it)[i].get<uint32_t>();
            }
        }
        std::vector<char*> ptrs;
        for (auto& a : accounts) ptrs.push_back(&a[0]);
        ptrs.push_back(nullptr);
        int n = static_cast<int>(num(ev, "n"));
        if (n == 0) n = static_cast<int>(accounts.size());
        cb->onChannelUserList(n, ptrs.data(), uids.data());
    }
    else if (e == "onChannelQueryUserNumResult") cb->onChannelQueryUserNumResult(S(channel), ecode, static_cast<int>(num(ev, "num")));
    else if (e == "onChannelQueryUserIsIn") cb->onChannelQueryUserIsIn(S(channel), S(account), static_cast<int>(num(ev, "isIn")));
    else if (e == "onChannelAttrUpdated") { std::string type = str(ev, "type"); cb->onChannelAttrUpdated(S(channel), S(name), S(value), S(type)); }
    else if (e == "onInviteReceived") cb->onInviteReceived(S(channel), S(account), uid, S(extra));
    else if (e == "onInviteReceivedByPeer") cb->onInviteReceivedByPeer(S(channel), S(account), uid);
    else if (e == "onInviteAcceptedByPeer") cb->onInviteAcceptedByPeer(S(channel), S(account), uid, S(extra));
    else if (e == "onInviteRefusedByPeer") cb->onInviteRefusedByPeer(S(channel), S(account), uid, S(extra));
    else if (e == "onInviteFailed") cb->onInviteFailed(S(channel), S(account), uid, ecode, S(extra));
    else if (e == "onInviteEndByPeer") cb->onInviteEndByPeer(S(channel), S(account), uid, S(extra));
    else if (e == "onInviteEndByMyself") cb->onInviteEndByMyself(S(channel), S(account), uid);
    else if (e == "onInviteMsg") {
        std::string type = str(ev, "msgType"), data = str(ev, "msgData");
        cb->onInviteMsg(S(channel), S(account), static_cast<int>(uid), S(type), S(data), S(extra));
    }
#undef S
}

} // namespace switchboard
