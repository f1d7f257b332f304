// sig_test.cpp: the C++ SDK against a real Switchboard (the Go harness,
// sdk/cpp/cpp_test.go, starts it and sets SWITCHBOARD_URL). Every wait is
// for a callback, with a deadline; nothing sleeps to synchronise.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>

#include <gtest/gtest.h>

#include "fixture.hpp"

using namespace sbtest;

namespace {

TEST(Login, LoginAndLogout) {
    Instance a;
    EXPECT_EQ(a.api->getStatus(), 0);
    EXPECT_EQ(a.api->getSdkVersion(), 1010400000);
    a.login(unique("alice"));
    EXPECT_EQ(a.api->getStatus(), 2);
    EXPECT_TRUE(a.api->isOnline());
    a.api->logout();
    EXPECT_EQ(a.rec.wait("onLogout")["ecode"], 101);
    EXPECT_EQ(a.api->getStatus(), 0);
}

TEST(Login, SecondLoginKicksTheFirst) {
    std::string who = unique("kicked");
    Instance a, b;
    a.login(who);
    b.login(who);
    EXPECT_EQ(a.rec.wait("onLogout")["ecode"], 103);
    EXPECT_EQ(a.api->getStatus(), 0);
    EXPECT_EQ(b.api->getStatus(), 2);
}

TEST(Login, ExpiredTokenEndsTheSessionWith105) {
    char const* cert = std::getenv("SWITCHBOARD_APP_CERT");
    if (cert == nullptr) GTEST_SKIP() << "SWITCHBOARD_APP_CERT not set";
    std::string who = unique("expiring");
    // Long enough for a login on a busy machine, short enough for a test.
    auto expiry = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch()).count() + 6;
    std::string token = tokenV1(appID(), cert, who, expiry);
    Instance a;
    a.api->login(P(appID()), P(who), P(token), 0, "", 0);
    a.rec.wait("onLoginSuccess");
    EXPECT_EQ(a.rec.wait("onLogout")["ecode"], 105);
    EXPECT_EQ(a.api->getStatus(), 0);
    EXPECT_EQ(a.rec.count("onReconnecting"), 0); // never resumed
}

TEST(Login, WrongAppFailsWith206) {
    Instance a;
    std::string app = "no-such-app", who = unique("nobody");
    a.api->login(P(app), P(who), P(kToken), 0, "", 0);
    EXPECT_EQ(a.rec.wait("onLoginFailed")["ecode"], 206);
}

TEST(Messages, PeerMessagesBothWays) {
    std::string an = unique("alice"), bn = unique("bob");
    Instance a, b;
    a.login(an);
    b.login(bn);
    std::string hi = "hi bob", id = "m-" + an;
    a.api->messageInstantSend(P(bn), 0, P(hi), P(id));
    auto got = b.rec.wait("onMessageInstantReceive");
    EXPECT_EQ(got["account"], an);
    EXPECT_EQ(got["msg"], hi);
    a.rec.wait("onMessageSendSuccess", field("messageID", id));

    // An empty msgID is replaced by one the success callback names.
    std::string back = "hi alice";
    b.api->messageInstantSend(P(an), 0, P(back), "", 0);
    EXPECT_EQ(a.rec.wait("onMessageInstantReceive")["msg"], back);
    EXPECT_NE(b.rec.wait("onMessageSendSuccess")["messageID"], "");
}

TEST(Messages, OfflinePeerFailsWith400) {
    Instance a;
    a.login(unique("alice"));
    std::string ghost = unique("ghost"), msg = "anyone?", id = "m-ghost";
    a.api->messageInstantSend(P(ghost), 0, P(msg), P(id));
    EXPECT_EQ(a.rec.wait("onMessageSendError", field("messageID", id))["ecode"], 400);
}

TEST(Channels, JoinGivesUserListAndAttributes) {
    std::string an = unique("alice"), bn = unique("bob"), room = unique("room");
    Instance a, b;
    a.login(an);
    b.login(bn);
    b.join(room);
    std::string topic = "topic", go = "go";
    b.api->channelSetAttr(P(room), P(topic), P(go));
    b.rec.wait("onChannelAttrUpdated", field("name", topic));

    a.join(room);
    auto list = a.rec.wait("onChannelUserList");
    EXPECT_EQ(list["n"], 2);
    EXPECT_EQ(list["accounts"], json::array({bn, an}));
    EXPECT_EQ(list["uids"], json::array({0, 0}));
    EXPECT_EQ(a.rec.wait("onChannelAttrUpdated", field("name", "_member_num"))["value"], "2");
    EXPECT_EQ(a.rec.wait("onChannelAttrUpdated", field("name", topic))["value"], go);
    EXPECT_EQ(b.rec.wait("onChannelUserJoined")["account"], an);

    std::string hello = "hello room", id = "c-" + an;
    a.api->messageChannelSend(P(room), P(hello), P(id));
    a.rec.wait("onMessageSendSuccess", field("messageID", id));
    auto m = b.rec.wait("onMessageChannelReceive");
    EXPECT_EQ(m["channelID"], room);
    EXPECT_EQ(m["account"], an);
    EXPECT_EQ(m["msg"], hello);

    a.api->channelQueryUserNum(P(room));
    EXPECT_EQ(a.rec.wait("onChannelQueryUserNumResult")["num"], 2);
    a.api->channelQueryUserIsIn(P(room), P(bn));
    EXPECT_EQ(a.rec.wait("onChannelQueryUserIsIn")["isIn"], 1);

    a.api->channelLeave(P(room));
    EXPECT_EQ(a.rec.wait("onChannelLeaved")["ecode"], 602);
    EXPECT_EQ(b.rec.wait("onChannelUserLeaved")["account"], an);
}

TEST(Channels, ManyMessagesArriveInOrder) {
    std::string an = unique("alice"), bn = unique("bob"), room = unique("room");
    Instance a, b;
    a.login(an);
    b.login(bn);
    a.join(room);
    b.join(room);
    constexpr int kN = 50;
    for (int i = 0; i < kN; ++i) {
        std::string m = std::to_string(i);
        a.api->messageChannelSend(P(room), P(m), "", 0);
    }
    b.rec.wait("onMessageChannelReceive", field("msg", std::to_string(kN - 1)));
    int next = 0;
    for (auto const& e : b.rec.events()) {
        if (e["ev"] == "onMessageChannelReceive") EXPECT_EQ(e["msg"], std::to_string(next++));
    }
    EXPECT_EQ(next, kN);
}

TEST(Attributes, UserAttributes) {
    std::string an = unique("alice"), bn = unique("bob");
    Instance a, b;
    a.login(an);
    b.login(bn);
    std::string color = "color", blue = "blue";
    a.api->setAttr(P(color), P(blue));
    a.api->getAttr(P(color));
    EXPECT_EQ(a.rec.wait("onUserAttrResult")["value"], blue);
    b.api->getUserAttr(P(an), P(color));
    auto r = b.rec.wait("onUserAttrResult");
    EXPECT_EQ(r["account"], an);
    EXPECT_EQ(r["value"], blue);
    b.api->getUserAttrAll(P(an));
    auto all = json::parse(std::string(b.rec.wait("onUserAttrAllResult")["value"]));
    EXPECT_EQ(all["color"], blue);
    a.api->queryUserStatus(P(bn));
    EXPECT_EQ(a.rec.wait("onQueryUserStatusResult")["status"], "1");
}

TEST(Invoke, QueryUserStatusAndAFailure) {
    std::string an = unique("alice"), bn = unique("bob");
    Instance a, b;
    a.login(an);
    b.login(bn);
    std::string fn = "io.agora.signal.user_query_user_status", req = json{{"account", bn}}.dump(), id = "call-1";
    a.api->invoke(P(fn), P(req), P(id));
    auto r = a.rec.wait("onInvokeRet", field("callID", id));
    EXPECT_EQ(r["err"], "");
    EXPECT_EQ(json::parse(std::string(r["resp"]))["status"], 1);

    std::string bad = "io.agora.signal.no_such_function", id2 = "call-2", empty = "{}";
    a.api->invoke(P(bad), P(empty), P(id2));
    EXPECT_NE(a.rec.wait("onInvokeRet", field("callID", id2))["err"], "");
}

TEST(Invitations, AcceptedAndRefused) {
    std::string an = unique("caller"), bn = unique("callee"), ch = unique("call");
    Instance a, b;
    a.login(an);
    b.login(bn);
    std::string extra = R"({"video":true})";
    a.api->channelInviteUser2(P(ch), P(bn), P(extra));
    auto inv = b.rec.wait("onInviteReceived");
    EXPECT_EQ(inv["account"], an);
    EXPECT_EQ(inv["channelID"], ch);
    EXPECT_EQ(inv["extra"], extra);
    a.rec.wait("onInviteReceivedByPeer");
    std::string yes = R"({"answer":"yes"})";
    b.api->channelInviteAccept(P(ch), P(an), 0, P(yes));
    auto acc = a.rec.wait("onInviteAcceptedByPeer");
    EXPECT_EQ(acc["account"], bn);
    EXPECT_EQ(acc["extra"], yes);
    a.api->channelInviteEnd(P(ch), P(bn), 0);
    a.rec.wait("onInviteEndByMyself");
    b.rec.wait("onInviteEndByPeer");

    std::string ch2 = unique("call"), no = R"({"answer":"busy"})";
    a.api->channelInviteUser(P(ch2), P(bn));
    b.rec.wait("onInviteReceived", field("channelID", ch2));
    b.api->channelInviteRefuse(P(ch2), P(an), 0, P(no));
    auto ref = a.rec.wait("onInviteRefusedByPeer");
    EXPECT_EQ(ref["channelID"], ch2);
    EXPECT_EQ(ref["extra"], no);
}

// A connection cut under a logged-in client is resumed: onReconnecting,
// onReconnected, and what came meanwhile arrives once; nothing before it
// arrives again; the peer sees no leave.
TEST(Resume, DroppedConnectionLosesNothing) {
    Proxy proxy;
    std::string an = unique("alice"), bn = unique("bob"), room = unique("room");
    Instance a(proxy.url()), b;
    a.login(an);
    b.login(bn);
    a.join(room);
    b.join(room);
    std::string before = "before";
    b.api->messageChannelSend(P(room), P(before), "", 0);
    a.rec.wait("onMessageChannelReceive", field("msg", before));
    std::string peer = "peer-before";
    b.api->messageInstantSend(P(an), 0, P(peer), "", 0);
    a.rec.wait("onMessageInstantReceive", field("msg", peer));

    proxy.refuse(true);
    proxy.drop();
    a.rec.wait("onReconnecting");
    EXPECT_EQ(a.api->getStatus(), 3);
    std::string away = "while away", awayID = "away-" + bn;
    b.api->messageChannelSend(P(room), P(away), P(awayID));
    b.rec.wait("onMessageSendSuccess", field("messageID", awayID));
    // A request made while reconnecting is queued and sent after the resume.
    std::string queued = "queued";
    a.api->messageChannelSend(P(room), P(queued), "", 0);
    proxy.refuse(false);

    a.rec.wait("onReconnected");
    EXPECT_EQ(a.api->getStatus(), 2);
    a.rec.wait("onMessageChannelReceive", field("msg", away));
    b.rec.wait("onMessageChannelReceive", field("msg", queued));
    a.rec.wait("onMessageSendSuccess");
    EXPECT_EQ(a.rec.count("onMessageChannelReceive", field("msg", before)), 1);
    EXPECT_EQ(a.rec.count("onMessageInstantReceive", field("msg", peer)), 1);
    EXPECT_EQ(a.rec.count("onMessageChannelReceive", field("msg", away)), 1);
    EXPECT_EQ(b.rec.count("onChannelUserLeaved"), 0);

    // And the session goes on: a message after the resume arrives once.
    std::string after = "after";
    b.api->messageInstantSend(P(an), 0, P(after), "", 0);
    a.rec.wait("onMessageInstantReceive", field("msg", after));
    EXPECT_EQ(a.rec.count("onMessageChannelReceive", field("msg", away)), 1);
}

TEST(Instances, TwoInstancesAreIndependent) {
    std::string an = unique("alice"), bn = unique("bob");
    auto* a = createAgoraSDKInstanceWin(P(appID()));
    auto* b = createAgoraSDKInstanceWin(P(appID()));
    ASSERT_NE(a, b);
    Recorder ra, rb;
    a->setServerUrl(P(serverURL()));
    b->setServerUrl(P(serverURL()));
    a->callbackSet(&ra);
    b->callbackSet(&rb);
    EXPECT_EQ(a->callbackGet(), &ra);
    a->login(P(appID()), P(an), P(kToken), 0, "", 0);
    b->login(P(appID()), P(bn), P(kToken), 0, "", 0);
    ra.wait("onLoginSuccess");
    rb.wait("onLoginSuccess");
    std::string room = unique("room");
    a->channelJoin(P(room));
    ra.wait("onChannelJoined");
    b->channelJoin(P(room));
    rb.wait("onChannelJoined");
    a->destroy(); // logs a out at once; b goes on
    EXPECT_EQ(rb.wait("onChannelUserLeaved")["account"], an);
    b->queryUserStatus(P(an));
    EXPECT_EQ(rb.wait("onQueryUserStatusResult")["status"], "0");
    EXPECT_EQ(ra.count("onLogout"), 0); // no callback after destroy
    b->destroy();

    // The shared instance is one until destroyed.
    auto* s1 = getAgoraSDKInstanceWin(P(appID()));
    auto* s2 = getAgoraSDKInstanceWin("other", 5);
    EXPECT_EQ(s1, s2);
    s1->destroy();
}

// Callbacks run on one thread of the SDK's own, and may call the API,
// destroy() included, without deadlock.
TEST(Callbacks, CallingTheAPIFromCallbacks) {
    std::string an = unique("alice"), room = unique("room");
    auto* api = createAgoraSDKInstanceWin(P(appID()));
    api->setServerUrl(P(serverURL()));
    Recorder rec;
    std::promise<void> destroyed;
    rec.onEvent = [&](json const& e) {
        if (e["ev"] == "onLoginSuccess") api->channelJoin(P(room));
        if (e["ev"] == "onChannelJoined") {
            api->channelQueryUserNum(P(room));
            EXPECT_EQ(api->getStatus(), 2);
        }
        if (e["ev"] == "onChannelQueryUserNumResult") {
            api->destroy();
            destroyed.set_value();
        }
    };
    api->callbackSet(&rec);
    api->login(P(appID()), P(an), P(kToken), 0, "", 0);
    rec.wait("onChannelQueryUserNumResult");
    auto threads = rec.threads();
    ASSERT_FALSE(threads.empty());
    for (auto const& t : threads) {
        EXPECT_EQ(t, threads[0]);
        EXPECT_NE(t, std::this_thread::get_id());
    }
    // destroy() returned inside the callback; rec must outlive that callback.
    EXPECT_EQ(destroyed.get_future().wait_for(kWait), std::future_status::ready);
}

TEST(BadInput, FailsBeforeSending) {
    Instance a;
    std::string room = "room";
    // Not logged in: 1003, through the op's own callback.
    a.api->channelJoin(P(room));
    EXPECT_EQ(a.rec.wait("onChannelJoinFailed")["ecode"], 1003);
    a.api->getAttrAll();
    EXPECT_EQ(a.rec.wait("onError", field("name", "getAttrAll"))["ecode"], 1003);

    a.login(unique("alice"));
    // A null pointer with a size.
    a.api->channelJoin(nullptr, 4);
    EXPECT_EQ(a.rec.wait("onChannelJoinFailed")["ecode"], 1004);
    // A size longer than the string.
    a.api->queryUserStatus("bob", 10);
    EXPECT_EQ(a.rec.wait("onError", field("name", "queryUserStatus"))["ecode"], 1004);
    // A name with a space, and one over 128 characters.
    std::string spaced = "two words", longName(129, 'x');
    a.api->channelJoin(P(spaced));
    EXPECT_EQ(a.rec.wait("onChannelJoinFailed", field("channelID", spaced))["ecode"], 1004);
    a.api->channelJoin(P(longName));
    EXPECT_EQ(a.rec.wait("onChannelJoinFailed", field("channelID", longName))["ecode"], 1004);
    // Not UTF-8.
    std::string notUTF8 = "bad\xff", msg = "x", id = "bad-utf8";
    a.api->messageInstantSend(P(notUTF8), 0, P(msg), P(id));
    EXPECT_EQ(a.rec.wait("onMessageSendError", field("messageID", id))["ecode"], 1004);
    // A message over 8 KB: 1005 without a round trip.
    std::string big(8193, 'm'), bigID = "big", peer = "bob";
    a.api->messageInstantSend(P(peer), 0, P(big), P(bigID));
    EXPECT_EQ(a.rec.wait("onMessageSendError", field("messageID", bigID))["ecode"], 1005);
    std::string bigExtra(8193, 'e');
    a.api->channelInviteUser2(P(room), P(peer), P(bigExtra));
    EXPECT_EQ(a.rec.wait("onInviteFailed")["ecode"], 1005);
    // A login with a null account.
    Instance b;
    b.api->login(P(appID()), nullptr, 3, P(kToken), 0, "", 0);
    EXPECT_EQ(b.rec.wait("onLoginFailed")["ecode"], 1004);
    // The connection is still fine.
    a.api->queryUserStatus(P(peer));
    a.rec.wait("onQueryUserStatusResult");
}

} // namespace

// wss://: the Go harness puts a TLS terminator in front of the edge, with a
// certificate for localhost from a CA it hands to OpenSSL as SSL_CERT_FILE,
// and names it in SWITCHBOARD_WSS_URL. A peer on plain ws:// talks to it.
TEST(TLS, LoginAndMessagesOverWss) {
    char const* wss = std::getenv("SWITCHBOARD_WSS_URL");
    if (wss == nullptr) GTEST_SKIP() << "SWITCHBOARD_WSS_URL is not set (cpp_test.go sets it)";
    std::string an = unique("tls"), bn = unique("plain");
    Instance a(wss), b;
    a.login(an);
    b.login(bn);
    std::string hi = "over TLS", id = "t-" + an;
    a.api->messageInstantSend(P(bn), 0, P(hi), P(id));
    EXPECT_EQ(b.rec.wait("onMessageInstantReceive")["msg"], hi);
    a.rec.wait("onMessageSendSuccess", field("messageID", id));
    std::string back = "back over TLS";
    b.api->messageInstantSend(P(an), 0, P(back), "", 0);
    EXPECT_EQ(a.rec.wait("onMessageInstantReceive")["msg"], back);
}

// A certificate nobody vouches for fails the login rather than connecting.
TEST(TLS, UntrustedCertificateFailsTheLogin) {
    char const* wss = std::getenv("SWITCHBOARD_WSS_UNTRUSTED_URL");
    if (wss == nullptr) GTEST_SKIP() << "SWITCHBOARD_WSS_UNTRUSTED_URL is not set (cpp_test.go sets it)";
    Instance a(wss);
    std::string app = appID(), who = unique("mitm"), tok = kToken;
    // login2 with a 3 s, 2-dial budget: every dial fails the handshake.
    a.api->login2(P(app), P(who), P(tok), 0, "", 0, 3, 2);
    EXPECT_NE(a.rec.wait("onLoginFailed")["ecode"], 0);
    EXPECT_EQ(a.rec.count("onLoginSuccess"), 0);
}
