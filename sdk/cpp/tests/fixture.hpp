// fixture.hpp: what the tests need around the SDK: a Recorder (an ICallBack
// that keeps every callback and waits for one with a deadline), a TCP proxy
// that the test can cut, and the Switchboard the Go harness started
// (SWITCHBOARD_URL, SWITCHBOARD_APP).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "IAgoraAPI.h"

namespace sbtest {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Generous: the machine is a busy 2-core box, and sanitizers slow it down.
constexpr auto kWait = 30s;

// P passes a std::string as the API's (pointer, size) pair.
#define P(s) (s).c_str(), (s).size()

// kToken is the token an app without a certificate check takes.
inline std::string const kToken = "_no_need_token";

std::string serverURL();
std::string appID();
// edge1URL is a second edge of the same Switchboard (SWITCHBOARD_URL_EDGE1),
// and controlURL the harness's control endpoint (SWITCHBOARD_CONTROL_URL,
// sdk/cpp/control_test.go); "" when the harness did not set them.
std::string edge1URL();
std::string controlURL();
// control POSTs path (e.g. "/drain?edge=1") to the control endpoint and
// returns the HTTP status, or 0 when it cannot be reached.
int control(std::string const& path);
// unique returns a name no other test run on the same server has used.
std::string unique(std::string const& base);

// Recorder records every callback as a JSON object {"ev": name, fields…}
// with the API's parameter names, and the thread it ran on.
class Recorder : public agora_sdk_win::ICallBack {
public:
    // wait returns the first event named ev, after those already taken by
    // earlier waits for ev, matching pred; it fails the test past the deadline.
    json wait(std::string const& ev, std::function<bool(json const&)> pred = nullptr, std::chrono::seconds d = kWait);
    int count(std::string const& ev, std::function<bool(json const&)> pred = nullptr);
    std::vector<json> events();
    std::vector<std::thread::id> threads();
    // onEvent, if set, runs inside the callback (on the SDK's thread).
    std::function<void(json const&)> onEvent;

    void onReconnecting(uint32_t nretry) override;
    void onReconnected(int fd) override;
    void onLoginSuccess(uint32_t uid, int fd) override;
    void onLogout(int ecode) override;
    void onLoginFailed(int ecode) override;
    void onChannelJoined(char const* channelID, size_t channelID_size) override;
    void onChannelJoinFailed(char const* channelID, size_t channelID_size, int ecode) override;
    void onChannelLeaved(char const* channelID, size_t channelID_size, int ecode) override;
    void onChannelUserJoined(char const* account, size_t account_size, uint32_t uid) override;
    void onChannelUserLeaved(char const* account, size_t account_size, uint32_t uid) override;
    void onChannelUserList(int n, char** accounts, uint32_t* uids) override;
    void onChannelQueryUserNumResult(char const* channelID, size_t channelID_size, int ecode, int num) override;
    void onChannelQueryUserIsIn(char const* channelID, size_t channelID_size, char const* account, size_t account_size, int isIn) override;
    void onChannelAttrUpdated(char const* channelID, size_t channelID_size, char const* name, size_t name_size, char const* value, size_t value_size, char const* type, size_t type_size) override;
    void onInviteReceived(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, char const* extra, size_t extra_size) override;
    void onInviteReceivedByPeer(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid) override;
    void onInviteAcceptedByPeer(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, char const* extra, size_t extra_size) override;
    void onInviteRefusedByPeer(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, char const* extra, size_t extra_size) override;
    void onInviteFailed(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, int ecode, char const* extra, size_t extra_size) override;
    void onInviteEndByPeer(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, char const* extra, size_t extra_size) override;
    void onInviteEndByMyself(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid) override;
    void onMessageSendError(char const* messageID, size_t messageID_size, int ecode) override;
    void onMessageSendSuccess(char const* messageID, size_t messageID_size) override;
    void onMessageInstantReceive(char const* account, size_t account_size, uint32_t uid, char const* msg, size_t msg_size) override;
    void onMessageChannelReceive(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, char const* msg, size_t msg_size) override;
    void onInvokeRet(char const* callID, size_t callID_size, char const* err, size_t err_size, char const* resp, size_t resp_size) override;
    void onError(char const* name, size_t name_size, int ecode, char const* desc, size_t desc_size) override;
    void onQueryUserStatusResult(char const* name, size_t name_size, char const* status, size_t status_size) override;
    void onUserAttrResult(char const* account, size_t account_size, char const* name, size_t name_size, char const* value, size_t value_size) override;
    void onUserAttrAllResult(char const* account, size_t account_size, char const* value, size_t value_size) override;
    // The SDK's own log lines, as {"ev": "onLog", "msg": line}.
    void onLog(char const* txt, size_t txt_size) override;

private:
    void add(json ev);
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<json> evs_;
    std::vector<std::thread::id> threads_;
    std::vector<size_t> taken_; // indexes already returned by wait
};

// Proxy forwards TCP connections to the server (or to target, a ws:// URL).
// drop() cuts every one of them at once (no close frame: the network went
// away); refuse(true) makes it close new ones at once.
class Proxy {
public:
    explicit Proxy(std::string const& target = serverURL());
    ~Proxy();
    std::string url() const; // ws://127.0.0.1:PORT/ws
    void drop();
    void refuse(bool on);
    int accepted() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Instance is an IAgoraAPI with a Recorder, destroyed at the end of scope.
struct Instance {
    explicit Instance(std::string const& url = serverURL());
    ~Instance();
    Instance(Instance const&) = delete;
    Instance& operator=(Instance const&) = delete;
    // login logs account in and waits for onLoginSuccess.
    void login(std::string const& account);
    void join(std::string const& channel);
    agora_sdk_win::IAgoraAPI* api = nullptr;
    Recorder rec;
};

// tokenV1 makes a SignalingToken v1 (docs/tokens.md): 1:appId:expiry:md5hex
// of account + appId + certificate + expiry.
std::string tokenV1(std::string const& app, std::string const& cert, std::string const& account, long long expiry);

std::function<bool(json const&)> field(std::string const& key, json const& value);

} // namespace sbtest
