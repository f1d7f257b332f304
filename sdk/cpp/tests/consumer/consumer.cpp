// consumer.cpp: the smallest app against the installed SDK. It logs in to
// SWITCHBOARD_URL as SWITCHBOARD_ACCOUNT of SWITCHBOARD_APP (the test app
// takes "_no_need_token"), sends itself a message, waits for it, logs out
// and exits 0; anything else exits 1 with what went wrong.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include <IAgoraAPI.h>

namespace {

struct Waiter : agora_sdk_win::ICallBack {
    std::mutex mu;
    std::condition_variable cv;
    bool loggedIn = false, received = false, loggedOut = false;
    int failed = 0;
    std::string got;

    void onLoginSuccess(uint32_t, int) override { set([&] { loggedIn = true; }); }
    void onLoginFailed(int ecode) override { set([&] { failed = ecode; }); }
    void onMessageInstantReceive(char const*, size_t, uint32_t, char const* msg, size_t msg_size) override {
        set([&] { got.assign(msg, msg_size); received = true; });
    }
    void onMessageSendError(char const*, size_t, int ecode) override { set([&] { failed = ecode; }); }
    void onLogout(int) override { set([&] { loggedOut = true; }); }

    template <class F> void set(F f) {
        {
            std::lock_guard<std::mutex> l(mu);
            f();
        }
        cv.notify_all();
    }
    template <class P> bool wait(P p) {
        std::unique_lock<std::mutex> l(mu);
        return cv.wait_for(l, std::chrono::seconds(30), [&] { return p() || failed != 0; }) && failed == 0;
    }
};

std::string env(char const* name) {
    char const* v = std::getenv(name);
    return v == nullptr ? "" : v;
}

} // namespace

int main() {
    std::string app = env("SWITCHBOARD_APP"), account = env("SWITCHBOARD_ACCOUNT");
    std::string token = "_no_need_token", msg = "hello from " + account, id = "m1";
    if (app.empty() || account.empty()) {
        std::fprintf(stderr, "set SWITCHBOARD_URL, SWITCHBOARD_APP and SWITCHBOARD_ACCOUNT\n");
        return 1;
    }
    Waiter w;
    agora_sdk_win::IAgoraAPI* api = createAgoraSDKInstanceWin(app.c_str(), app.size());
    api->callbackSet(&w);
    api->login(app.c_str(), app.size(), account.c_str(), account.size(), token.c_str(), token.size(), 0, "", 0);
    int rc = 0;
    if (!w.wait([&] { return w.loggedIn; })) {
        std::fprintf(stderr, "no onLoginSuccess (ecode %d)\n", w.failed);
        rc = 1;
    } else {
        api->messageInstantSend(account.c_str(), account.size(), 0, msg.c_str(), msg.size(), id.c_str(), id.size());
        if (!w.wait([&] { return w.received; }) || w.got != msg) {
            std::fprintf(stderr, "message not received (ecode %d, got %s)\n", w.failed, w.got.c_str());
            rc = 1;
        }
        api->logout();
        if (rc == 0 && !w.wait([&] { return w.loggedOut; })) {
            std::fprintf(stderr, "no onLogout\n");
            rc = 1;
        }
    }
    api->destroy();
    if (rc == 0) std::printf("ok\n");
    return rc;
}
