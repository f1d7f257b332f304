// api.cpp: IAgoraAPI on a Client: each method turns its (pointer, size)
// parameters into a request, or fails through the op's callback when they
// break the API's rules, before anything is sent.
#include <atomic>
#include <mutex>
#include <random>

#include "IAgoraAPI.h"
#include "client.hpp"

namespace switchboard {
namespace {

using agora_sdk_win::IAgoraAPI;
using agora_sdk_win::ICallBack;

// Message IDs the SDK picks are unique across processes (the prefix) and
// within one (the counter).
std::string newMsgID() {
    static std::string const prefix = [] {
        std::random_device rd;
        char const* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        std::string p;
        for (int i = 0; i < 10; ++i) p += digits[rd() % 36];
        return p;
    }();
    static std::atomic<uint64_t> seq{0};
    return "cpp-" + prefix + "-" + std::to_string(++seq);
}

// Request builds a request from the API's parameters; ok turns false when a
// pointer and its size disagree.
struct Request {
    json req;
    bool ok = true;
    explicit Request(char const* op) : req{{"op", op}} {}
    Request& s(char const* key, char const* p, size_t n) {
        std::string v;
        if (!takeString(p, n, v)) ok = false;
        req[key] = std::move(v);
        return *this;
    }
    Request& u(char const* key, uint32_t v) {
        if (v != 0) req[key] = v; // the edge reads an absent number as 0
        return *this;
    }
    Request& msgID(char const* p, size_t n) {
        s("msgID", p, n);
        if (ok && str(req, "msgID").empty()) req["msgID"] = newMsgID();
        return *this;
    }
};

class API final : public IAgoraAPI {
public:
    explicit API(std::shared_ptr<Client> c) : c_(std::move(c)) {}

    void destroy() override;
    void callbackSet(ICallBack* handler) override { c_->callbackSet(handler); }
    ICallBack* callbackGet() override { return c_->callbackGet(); }

    void login(char const* appId, size_t appId_size, char const* account, size_t account_size, char const* token,
               size_t token_size, uint32_t uid, char const* deviceID, size_t deviceID_size) override {
        doLogin("login", appId, appId_size, account, account_size, token, token_size, uid, deviceID, deviceID_size,
                ms(120000), 0);
    }
    void login2(char const* appId, size_t appId_size, char const* account, size_t account_size, char const* token,
                size_t token_size, uint32_t uid, char const* deviceID, size_t deviceID_size, int retry_time_in_s,
                int retry_count) override {
        // The API's defaults, 30 s and 3, when not positive; the edge is
        // not sent them.
        ms t = retry_time_in_s > 0 ? ms(int64_t(retry_time_in_s) * 1000) : ms(30000);
        doLogin("login2", appId, appId_size, account, account_size, token, token_size, uid, deviceID, deviceID_size,
                t, retry_count > 0 ? retry_count : 3);
    }
    void logout() override { c_->logout(); }
    void queryUserStatus(char const* account, size_t account_size) override {
        send(Request("queryUserStatus").s("account", account, account_size));
    }
    void setAttr(char const* name, size_t name_size, char const* value, size_t value_size) override {
        send(Request("setAttr").s("name", name, name_size).s("value", value, value_size));
    }
    void getAttr(char const* name, size_t name_size) override { send(Request("getAttr").s("name", name, name_size)); }
    void getAttrAll() override { send(Request("getAttrAll")); }
    void getUserAttr(char const* account, size_t account_size, char const* name, size_t name_size) override {
        send(Request("getUserAttr").s("account", account, account_size).s("name", name, name_size));
    }
    void getUserAttrAll(char const* account, size_t account_size) override {
        send(Request("getUserAttrAll").s("account", account, account_size));
    }
    void invoke(char const* name, size_t name_size, char const* req, size_t req_size, char const* callID,
                size_t callID_size) override {
        send(Request("invoke").s("name", name, name_size).s("req", req, req_size).s("callID", callID, callID_size));
    }
    void messageInstantSend(char const* account, size_t account_size, uint32_t uid, char const* msg, size_t msg_size,
                            char const* msgID, size_t msgID_size) override {
        send(Request("messageInstantSend").s("account", account, account_size).u("uid", uid).s("msg", msg, msg_size)
                 .msgID(msgID, msgID_size));
    }

    void channelJoin(char const* channelID, size_t channelID_size) override {
        send(Request("channelJoin").s("channelID", channelID, channelID_size));
    }
    void channelLeave(char const* channelID, size_t channelID_size) override {
        send(Request("channelLeave").s("channelID", channelID, channelID_size));
    }
    void channelQueryUserNum(char const* channelID, size_t channelID_size) override {
        send(Request("channelQueryUserNum").s("channelID", channelID, channelID_size));
    }
    void channelQueryUserIsIn(char const* channelID, size_t channelID_size, char const* account,
                              size_t account_size) override {
        send(Request("channelQueryUserIsIn").s("channelID", channelID, channelID_size).s("account", account, account_size));
    }
    void channelSetAttr(char const* channelID, size_t channelID_size, char const* name, size_t name_size,
                        char const* value, size_t value_size) override {
        send(Request("channelSetAttr").s("channelID", channelID, channelID_size).s("name", name, name_size)
                 .s("value", value, value_size));
    }
    void channelDelAttr(char const* channelID, size_t channelID_size, char const* name, size_t name_size) override {
        send(Request("channelDelAttr").s("channelID", channelID, channelID_size).s("name", name, name_size));
    }
    void channelClearAttr(char const* channelID, size_t channelID_size) override {
        send(Request("channelClearAttr").s("channelID", channelID, channelID_size));
    }
    void messageChannelSend(char const* channelID, size_t channelID_size, char const* msg, size_t msg_size,
                            char const* msgID, size_t msgID_size) override {
        send(Request("messageChannelSend").s("channelID", channelID, channelID_size).s("msg", msg, msg_size)
                 .msgID(msgID, msgID_size));
    }

    void channelInviteUser(char const* channelID, size_t channelID_size, char const* account, size_t account_size,
                           uint32_t uid) override {
        send(Request("channelInviteUser").s("channelID", channelID, channelID_size).s("account", account, account_size)
                 .u("uid", uid));
    }
    void channelInviteUser2(char const* channelID, size_t channelID_size, char const* account, size_t account_size,
                            char const* extra, size_t extra_size) override {
        send(Request("channelInviteUser2").s("channelID", channelID, channelID_size).s("account", account, account_size)
                 .s("extra", extra, extra_size));
    }
    void channelInviteDTMF(char const* channelID, size_t channelID_size, char const* phoneNum, size_t phoneNum_size,
                           char const* dtmf, size_t dtmf_size) override {
        send(Request("channelInviteDTMF").s("channelID", channelID, channelID_size).s("phoneNum", phoneNum, phoneNum_size)
                 .s("dtmf", dtmf, dtmf_size));
    }
    void channelInviteAccept(char const* channelID, size_t channelID_size, char const* account, size_t account_size,
                             uint32_t uid, char const* extra, size_t extra_size) override {
        send(Request("channelInviteAccept").s("channelID", channelID, channelID_size).s("account", account, account_size)
                 .u("uid", uid).s("extra", extra, extra_size));
    }
    void channelInviteRefuse(char const* channelID, size_t channelID_size, char const* account, size_t account_size,
                             uint32_t uid, char const* extra, size_t extra_size) override {
        send(Request("channelInviteRefuse").s("channelID", channelID, channelID_size).s("account", account, account_size)
                 .u("uid", uid).s("extra", extra, extra_size));
    }
    void channelInviteEnd(char const* channelID, size_t channelID_size, char const* account, size_t account_size,
                          uint32_t uid) override {
        send(Request("channelInviteEnd").s("channelID", channelID, channelID_size).s("account", account, account_size)
                 .u("uid", uid));
    }

    int getStatus() override { return c_->status(); }
    int getSdkVersion() override { return kSdkVersion; }
    void messageChannelSendForce(char const* channelID, size_t channelID_size, char const* msg, size_t msg_size,
                                 char const* msgID, size_t msgID_size) override {
        send(Request("messageChannelSendForce").s("channelID", channelID, channelID_size).s("msg", msg, msg_size)
                 .msgID(msgID, msgID_size));
    }

    void messageDTMFSend(uint32_t uid, char const* msg, size_t msg_size, char const* msgID, size_t msgID_size) override {
        send(Request("messageDTMFSend").u("uid", uid).s("msg", msg, msg_size).msgID(msgID, msgID_size));
    }
    void channelInvitePhone(char const* channelID, size_t channelID_size, char const* phoneNum, size_t phoneNum_size,
                            uint32_t uid) override {
        send(Request("channelInvitePhone").s("channelID", channelID, channelID_size)
                 .s("phoneNum", phoneNum, phoneNum_size).u("uid", uid));
    }
    void channelInvitePhone2(char const* channelID, size_t channelID_size, char const* phoneNum, size_t phoneNum_size,
                             char const* sourcesNum, size_t sourcesNum_size) override {
        send(Request("channelInvitePhone2").s("channelID", channelID, channelID_size)
                 .s("phoneNum", phoneNum, phoneNum_size).s("sourcesNum", sourcesNum, sourcesNum_size));
    }
    void channelInvitePhone3(char const* channelID, size_t channelID_size, char const* phoneNum, size_t phoneNum_size,
                             char const* sourcesNum, size_t sourcesNum_size, char const* extra,
                             size_t extra_size) override {
        send(Request("channelInvitePhone3").s("channelID", channelID, channelID_size)
                 .s("phoneNum", phoneNum, phoneNum_size).s("sourcesNum", sourcesNum, sourcesNum_size)
                 .s("extra", extra, extra_size));
    }
    bool isOnline() override { return c_->status() == 2; }

    void setServerUrl(char const* url, size_t url_size) override {
        std::string u;
        if (takeString(url, url_size, u)) c_->setServerURLs(u);
    }

private:
    ~API() override = default;

    void doLogin(char const* op, char const* appId, size_t appId_size, char const* account, size_t account_size,
                 char const* token, size_t token_size, uint32_t uid, char const* deviceID, size_t deviceID_size,
                 ms retryTime, int retryCount) {
        Request r(op);
        r.s("appId", appId, appId_size).s("account", account, account_size).s("token", token, token_size).u("uid", uid);
        r.s("deviceID", deviceID, deviceID_size);
        if (str(r.req, "deviceID").empty()) r.req.erase("deviceID");
        if (!r.ok) {
            c_->fail(r.req, Fail::WrongParam);
            return;
        }
        c_->login(std::move(r.req), retryTime, retryCount);
    }

    void send(Request const& r) {
        if (!r.ok) {
            // A pointer that disagrees with its size: the op's failure
            // callback with 1004, naming what can be named.
            c_->fail(r.req, Fail::WrongParam);
            return;
        }
        c_->request(r.req);
    }

    std::shared_ptr<Client> c_;
};

std::mutex sharedMu;
API* shared = nullptr;

void API::destroy() {
    {
        std::lock_guard<std::mutex> lk(sharedMu);
        if (shared == this) shared = nullptr;
    }
    c_->destroy();
    delete this;
}

API* create(char const* appId, size_t appId_size) {
    std::string id;
    takeString(appId, appId_size, id);
    auto c = std::make_shared<Client>(id);
    c->start();
    return new API(std::move(c));
}

} // namespace
} // namespace switchboard

agora_sdk_win::IAgoraAPI* getAgoraSDKInstanceWin(char const* appId, size_t appId_size) {
    std::lock_guard<std::mutex> lk(switchboard::sharedMu);
    if (switchboard::shared == nullptr) switchboard::shared = switchboard::create(appId, appId_size);
    return switchboard::shared;
}

agora_sdk_win::IAgoraAPI* createAgoraSDKInstanceWin(char const* appId, size_t appId_size) {
    return switchboard::create(appId, appId_size);
}
