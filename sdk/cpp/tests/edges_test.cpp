// edges_test.cpp: what an app sees when its edge goes away. The harness
// (sdk/cpp/cpp_test.go) runs two edges of one Switchboard: edge 0 at
// SWITCHBOARD_URL, edge 1 at SWITCHBOARD_URL_EDGE1, and a control endpoint
// (SWITCHBOARD_CONTROL_URL) that drains edge 1 as a SIGTERM would, starts it
// again, or ends a session through the server API. Every wait is for a
// callback, with a deadline; the one sleep waits for a token to expire.
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fixture.hpp"

using namespace sbtest;

namespace {

bool twoEdges() { return !edge1URL().empty() && !controlURL().empty(); }

// at is the index of the nth (from 1) event named ev in a recorder's
// events, or -1.
int at(Recorder& r, std::string const& ev, int nth = 1) {
    auto evs = r.events();
    for (size_t i = 0; i < evs.size(); ++i) {
        if (evs[i]["ev"] == ev && --nth == 0) return static_cast<int>(i);
    }
    return -1;
}

// logged says whether the SDK logged line (onLog).
std::function<bool(json const&)> logged(std::string const& line) { return field("msg", line); }

// joinBoth joins a and then b (account bn) to room, and returns once a has
// seen b join.
void joinBoth(Instance& a, Instance& b, std::string const& bn, std::string const& room) {
    a.join(room);
    b.join(room);
    a.rec.wait("onChannelUserJoined", field("account", bn));
}

// EdgeBack starts edge 1 again when the test that drained it ends, so that
// the tests after it find it.
struct EdgeBack {
    ~EdgeBack() { control("/start?edge=1"); }
};

// The edge under a client drains (a SIGTERM, a rolling update): it sends
// the client a move, and the client resumes on the next URL of its list.
// The app sees onReconnecting(1) then onReconnected(0) and nothing else: no
// logout, no login, no re-join; a peer message sent to it, and one it sent,
// while it moved arrive once each; its peers never see it leave.
TEST(Move, DrainedEdgeMovesTheClientWithItsSession) {
    if (!twoEdges()) GTEST_SKIP() << "needs SWITCHBOARD_URL_EDGE1 and SWITCHBOARD_CONTROL_URL (sdk/cpp/cpp_test.go)";
    std::string an = unique("alice"), bn = unique("bob"), room = unique("room");
    std::string toA = "sent to alice as she moves", toAID = "to-a-" + an;
    std::string toB = "sent by alice as she moves", toBID = "to-b-" + an;
    Instance b;
    Instance a(edge1URL() + "," + serverURL());
    // As the move begins, bob writes to alice and alice to bob (hers waits
    // in the SDK until she is back). Set before the first callback.
    bool sent = false; // the callback thread's
    a.rec.onEvent = [&](json const& e) {
        if (e["ev"] != "onReconnecting" || sent) return;
        sent = true;
        b.api->messageInstantSend(P(an), 0, P(toA), P(toAID));
        a.api->messageInstantSend(P(bn), 0, P(toB), P(toBID));
    };
    a.login(an);
    b.login(bn);
    joinBoth(a, b, bn, room);

    EdgeBack back;
    auto drained = std::async(std::launch::async, [] { return control("/drain?edge=1"); });
    EXPECT_EQ(a.rec.wait("onReconnecting")["nretry"], 1);
    EXPECT_EQ(a.rec.wait("onReconnected")["fd"], 0);
    EXPECT_EQ(a.api->getStatus(), 2);
    EXPECT_EQ(a.rec.wait("onMessageInstantReceive", field("msg", toA))["account"], bn);
    b.rec.wait("onMessageSendSuccess", field("messageID", toAID));
    EXPECT_EQ(b.rec.wait("onMessageInstantReceive", field("msg", toB))["account"], an);
    a.rec.wait("onMessageSendSuccess", field("messageID", toBID));
    // The drain ends once its clients have moved.
    EXPECT_EQ(drained.get(), 204);

    // Still in the channel, still online, still reachable.
    std::string chat = "the room after the move";
    b.api->messageChannelSend(P(room), P(chat), "", 0);
    EXPECT_EQ(a.rec.wait("onMessageChannelReceive", field("msg", chat))["account"], bn);
    b.api->queryUserStatus(P(an));
    EXPECT_EQ(b.rec.wait("onQueryUserStatusResult", field("name", an))["status"], "1");
    std::string after = "after the move";
    b.api->messageInstantSend(P(an), 0, P(after), "", 0);
    a.rec.wait("onMessageInstantReceive", field("msg", after));

    // It was the move that moved it, not a lost connection.
    EXPECT_EQ(a.rec.count("onLog", logged("edge asks to move")), 1);
    EXPECT_LT(at(a.rec, "onReconnecting"), at(a.rec, "onReconnected"));
    EXPECT_EQ(a.rec.count("onReconnecting"), 1);
    EXPECT_EQ(a.rec.count("onReconnected"), 1);
    EXPECT_EQ(a.rec.count("onLogout"), 0);
    EXPECT_EQ(a.rec.count("onLoginFailed"), 0);
    EXPECT_EQ(a.rec.count("onLoginSuccess"), 1);
    EXPECT_EQ(a.rec.count("onChannelJoined"), 1);
    EXPECT_EQ(a.rec.count("onChannelLeaved"), 0);
    EXPECT_EQ(a.rec.count("onMessageInstantReceive", field("msg", toA)), 1);
    EXPECT_EQ(b.rec.count("onMessageInstantReceive", field("msg", toB)), 1);
    EXPECT_EQ(a.rec.count("onMessageSendError"), 0);
    EXPECT_EQ(b.rec.count("onMessageSendError"), 0);
    EXPECT_EQ(b.rec.count("onChannelUserLeaved"), 0);
}

// A login whose first URL is dead logs in through the next one; the
// dials that failed are no reconnection and no failure.
TEST(Failover, LoginSkipsADeadFirstURL) {
    if (!twoEdges()) GTEST_SKIP() << "needs SWITCHBOARD_URL_EDGE1 (sdk/cpp/cpp_test.go)";
    Proxy dead(edge1URL());
    dead.refuse(true); // accepts and closes at once: an edge that is going down
    std::string an = unique("alice"), bn = unique("bob");
    Instance b;
    b.login(bn);
    Instance a(dead.url() + "," + edge1URL());
    a.login(an);
    EXPECT_GE(dead.accepted(), 1); // it was tried first
    EXPECT_EQ(a.rec.wait("onLog", [](json const& e) { return e["msg"].get<std::string>().rfind("connecting to ", 0) == 0; })["msg"],
              "connecting to " + dead.url());
    EXPECT_EQ(a.api->getStatus(), 2);
    EXPECT_EQ(a.rec.count("onLoginFailed"), 0);
    EXPECT_EQ(a.rec.count("onReconnecting"), 0);
    EXPECT_EQ(a.rec.count("onReconnected"), 0);

    // Logged in on edge 1, talking with bob on edge 0.
    std::string hi = "hi from edge 1", hiID = "hi-" + an, back = "hi from edge 0";
    a.api->messageInstantSend(P(bn), 0, P(hi), P(hiID));
    EXPECT_EQ(b.rec.wait("onMessageInstantReceive", field("msg", hi))["account"], an);
    a.rec.wait("onMessageSendSuccess", field("messageID", hiID));
    b.api->messageInstantSend(P(an), 0, P(back), "", 0);
    EXPECT_EQ(a.rec.wait("onMessageInstantReceive", field("msg", back))["account"], bn);
}

// A client whose first edge dies under it (the network to it fails, no
// close frame) reconnects through the next URL and resumes its session
// there: what was sent to it meanwhile arrives once, its channel comes
// along, its peers see nothing.
TEST(Failover, ReconnectsThroughTheNextURLWhenTheFirstDies) {
    if (!twoEdges()) GTEST_SKIP() << "needs SWITCHBOARD_URL_EDGE1 (sdk/cpp/cpp_test.go)";
    Proxy first(edge1URL());
    std::string an = unique("alice"), bn = unique("bob"), room = unique("room");
    Instance b;
    Instance a(first.url() + "," + serverURL());
    a.login(an);
    b.login(bn);
    joinBoth(a, b, bn, room);

    first.refuse(true);
    first.drop();
    EXPECT_EQ(a.rec.wait("onReconnecting")["nretry"], 1);
    std::string away = "while the first edge is gone", awayID = "away-" + an;
    b.api->messageInstantSend(P(an), 0, P(away), P(awayID));
    EXPECT_EQ(a.rec.wait("onReconnected")["fd"], 0);
    EXPECT_EQ(a.api->getStatus(), 2);
    EXPECT_EQ(a.rec.wait("onMessageInstantReceive", field("msg", away))["account"], bn);
    b.rec.wait("onMessageSendSuccess", field("messageID", awayID));
    // The reconnection went to the next URL, not back to the dead one.
    EXPECT_EQ(first.accepted(), 1);

    std::string chat = "the room on edge 0";
    a.api->messageChannelSend(P(room), P(chat), "", 0);
    EXPECT_EQ(b.rec.wait("onMessageChannelReceive", field("msg", chat))["account"], an);
    std::string after = "after the failover";
    b.api->messageInstantSend(P(an), 0, P(after), "", 0);
    a.rec.wait("onMessageInstantReceive", field("msg", after));

    EXPECT_EQ(a.rec.count("onLog", logged("edge asks to move")), 0);
    EXPECT_LT(at(a.rec, "onReconnecting"), at(a.rec, "onReconnected"));
    EXPECT_EQ(a.rec.count("onMessageInstantReceive", field("msg", away)), 1);
    EXPECT_EQ(a.rec.count("onLogout"), 0);
    EXPECT_EQ(a.rec.count("onLoginFailed"), 0);
    EXPECT_EQ(a.rec.count("onLoginSuccess"), 1);
    EXPECT_EQ(a.rec.count("onChannelJoined"), 1);
    EXPECT_EQ(b.rec.count("onChannelUserLeaved"), 0);
    EXPECT_EQ(b.rec.count("onMessageSendError"), 0);
}

// The session ends while its client is away (the server API kicks it), so
// the resume is refused. The SDK logs in again on its own and joins the
// channels again: the app sees onReconnecting(1), onReconnected(0), then
// onChannelJoined for each channel; no onLogout, no second onLoginSuccess.
// Its peers saw it leave and come back.
TEST(ResumeRefused, SDKLogsInAfreshAndJoinsAgain) {
    if (controlURL().empty()) GTEST_SKIP() << "needs SWITCHBOARD_CONTROL_URL (sdk/cpp/cpp_test.go)";
    Proxy proxy;
    std::string an = unique("alice"), bn = unique("bob"), room = unique("room");
    Instance b;
    Instance a(proxy.url());
    a.login(an);
    b.login(bn);
    joinBoth(a, b, bn, room);

    proxy.refuse(true);
    proxy.drop();
    EXPECT_EQ(a.rec.wait("onReconnecting")["nretry"], 1);
    EXPECT_EQ(control("/kick?account=" + an), 204);
    b.rec.wait("onChannelUserLeaved", field("account", an)); // the session is over
    proxy.refuse(false);

    EXPECT_EQ(a.rec.wait("onReconnected")["fd"], 0);
    a.rec.wait("onChannelJoined", field("channelID", room)); // the first was a.join's
    b.rec.wait("onChannelUserJoined", field("account", an));
    EXPECT_EQ(a.api->getStatus(), 2);
    EXPECT_LT(at(a.rec, "onReconnecting"), at(a.rec, "onReconnected"));
    EXPECT_LT(at(a.rec, "onReconnected"), at(a.rec, "onChannelJoined", 2));
    EXPECT_EQ(a.rec.count("onLog", logged("resume failed; logging in again")), 1);
    EXPECT_EQ(a.rec.count("onLogout"), 0);
    EXPECT_EQ(a.rec.count("onLoginFailed"), 0);
    EXPECT_EQ(a.rec.count("onLoginSuccess"), 1);

    // The new session works: online, reachable, in the room.
    b.api->queryUserStatus(P(an));
    EXPECT_EQ(b.rec.wait("onQueryUserStatusResult", field("name", an))["status"], "1");
    std::string hi = "to the new session", hiID = "new-" + an;
    b.api->messageInstantSend(P(an), 0, P(hi), P(hiID));
    EXPECT_EQ(a.rec.wait("onMessageInstantReceive", field("msg", hi))["account"], bn);
    b.rec.wait("onMessageSendSuccess", field("messageID", hiID));
    std::string chat = "back in the room";
    a.api->messageChannelSend(P(room), P(chat), "", 0);
    EXPECT_EQ(b.rec.wait("onMessageChannelReceive", field("msg", chat))["account"], an);
    EXPECT_EQ(a.rec.count("onMessageInstantReceive", field("msg", hi)), 1);
}

// The session ends while its client is away, and by the time the client
// is back its token has expired: the resume is refused and so is the new
// login. The app sees onReconnecting then onLogout(102) (LOGOUT_E_NET: the
// API's code for a session the SDK could not keep), never onLoginFailed
// nor onReconnected; a login of the app's own then works.
TEST(ResumeRefused, FailedLoginAfterItIsLogout102ThenALoginWorks) {
    char const* cert = std::getenv("SWITCHBOARD_APP_CERT");
    if (cert == nullptr || controlURL().empty()) GTEST_SKIP() << "needs SWITCHBOARD_APP_CERT and SWITCHBOARD_CONTROL_URL";
    Proxy proxy;
    std::string an = unique("alice");
    // Long enough for a login on a busy machine, short enough for a test.
    auto expiry = std::chrono::system_clock::now() + std::chrono::seconds(6);
    std::string token = tokenV1(appID(), cert, an,
        std::chrono::duration_cast<std::chrono::seconds>(expiry.time_since_epoch()).count());
    Instance a(proxy.url());
    a.api->login(P(appID()), P(an), P(token), 0, "", 0);
    a.rec.wait("onLoginSuccess");

    proxy.refuse(true);
    proxy.drop();
    EXPECT_EQ(a.rec.wait("onReconnecting")["nretry"], 1);
    EXPECT_EQ(control("/kick?account=" + an), 204);
    // Not synchronisation: the token's expiry is a time on the clock.
    std::this_thread::sleep_until(expiry + std::chrono::seconds(1));
    proxy.refuse(false);

    EXPECT_EQ(a.rec.wait("onLogout")["ecode"], 102);
    EXPECT_EQ(a.api->getStatus(), 0);
    EXPECT_LT(at(a.rec, "onReconnecting"), at(a.rec, "onLogout"));
    EXPECT_EQ(a.rec.count("onLog", logged("resume failed; logging in again")), 1);
    EXPECT_EQ(a.rec.count("onReconnected"), 0);
    EXPECT_EQ(a.rec.count("onLoginFailed"), 0);
    EXPECT_EQ(a.rec.count("onLogout"), 1);

    a.api->login(P(appID()), P(an), P(kToken), 0, "", 0);
    a.rec.wait("onLoginSuccess");
    EXPECT_EQ(a.api->getStatus(), 2);
    EXPECT_EQ(a.rec.count("onLoginSuccess"), 2);
    a.api->logout();
    EXPECT_EQ(a.rec.wait("onLogout", field("ecode", 101))["ecode"], 101);
}

} // namespace
