// console_chat: a terminal chat on the Signaling API. It logs in, joins a
// channel, prints the members and every message, and sends each line typed.
// "/quit" (or end of input) logs out.
//
//   console_chat <account> [channel] [appId] [token]
//
// The server is $SWITCHBOARD_URL, else ws://127.0.0.1:7400/ws (`make run`).
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>

#include "IAgoraAPI.h"

using namespace agora_sdk_win;

class Chat : public ICallBack {
public:
    Chat(IAgoraAPI* api, std::string channel) : api_(api), channel_(std::move(channel)) {}

    void onLoginSuccess(uint32_t, int) override {
        std::cout << "* logged in; joining " << channel_ << std::endl;
        api_->channelJoin(channel_.c_str(), channel_.size());
    }
    void onLoginFailed(int ecode) override {
        std::cout << "* login failed: " << ecode << std::endl;
        finish();
    }
    void onLogout(int ecode) override {
        std::cout << "* logged out: " << ecode << std::endl;
        finish();
    }
    void onReconnecting(uint32_t nretry) override { std::cout << "* reconnecting (" << nretry << ")" << std::endl; }
    void onReconnected(int) override { std::cout << "* reconnected" << std::endl; }
    void onChannelJoined(char const* channelID, size_t channelID_size) override {
        std::cout << "* joined " << std::string(channelID, channelID_size) << "; type to talk, /quit to leave" << std::endl;
    }
    void onChannelJoinFailed(char const*, size_t, int ecode) override {
        std::cout << "* join failed: " << ecode << std::endl;
    }
    void onChannelUserList(int n, char** accounts, uint32_t*) override {
        std::cout << "* " << n << " here:";
        for (int i = 0; accounts[i] != nullptr; ++i) std::cout << " " << accounts[i];
        std::cout << std::endl;
    }
    void onChannelUserJoined(char const* account, size_t account_size, uint32_t) override {
        std::cout << "* " << std::string(account, account_size) << " joined" << std::endl;
    }
    void onChannelUserLeaved(char const* account, size_t account_size, uint32_t) override {
        std::cout << "* " << std::string(account, account_size) << " left" << std::endl;
    }
    void onMessageChannelReceive(char const*, size_t, char const* account, size_t account_size, uint32_t,
                                 char const* msg, size_t msg_size) override {
        std::cout << "<" << std::string(account, account_size) << "> " << std::string(msg, msg_size) << std::endl;
    }
    void onMessageInstantReceive(char const* account, size_t account_size, uint32_t, char const* msg,
                                 size_t msg_size) override {
        std::cout << "[" << std::string(account, account_size) << " to you] " << std::string(msg, msg_size) << std::endl;
    }
    void onMessageSendError(char const*, size_t, int ecode) override {
        std::cout << "* not sent: " << ecode << std::endl;
    }
    void onError(char const* name, size_t name_size, int ecode, char const* desc, size_t desc_size) override {
        std::cout << "* " << std::string(name, name_size) << " failed: " << ecode << " "
                  << std::string(desc, desc_size) << std::endl;
    }

    void waitFinished() {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [this] { return finished_; });
    }

private:
    void finish() {
        std::lock_guard<std::mutex> lk(mu_);
        finished_ = true;
        cv_.notify_all();
    }

    IAgoraAPI* api_;
    std::string channel_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool finished_ = false;
};

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: console_chat <account> [channel] [appId] [token]" << std::endl;
        return 2;
    }
    std::string account = argv[1];
    std::string channel = argc > 2 ? argv[2] : "lobby";
    std::string appId = argc > 3 ? argv[3] : "switchboard-dev";
    std::string token = argc > 4 ? argv[4] : "_no_need_token";

    IAgoraAPI* api = getAgoraSDKInstanceWin(appId.c_str(), appId.size());
    Chat chat(api, channel);
    api->callbackSet(&chat);
    api->login(appId.c_str(), appId.size(), account.c_str(), account.size(), token.c_str(), token.size(), 0, "", 0);

    std::string line;
    while (std::getline(std::cin, line) && line != "/quit") {
        if (line.empty()) continue;
        api->messageChannelSend(channel.c_str(), channel.size(), line.c_str(), line.size(), "", 0);
    }
    api->logout();
    chat.waitFinished();
    api->destroy();
    return 0;
}
