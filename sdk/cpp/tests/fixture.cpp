// fixture.cpp: the Recorder, the Proxy and Instance of fixture.hpp.
#include "fixture.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <future>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace sbtest {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// env is the environment variable name, or otherwise when it is unset.
std::string env(char const* name, char const* otherwise) {
    char const* v = std::getenv(name);
    return v ? v : otherwise;
}
} // namespace

std::string serverURL() { return env("SWITCHBOARD_URL", "ws://127.0.0.1:7400/ws"); }
std::string appID() { return env("SWITCHBOARD_APP", "switchboard-dev"); }
std::string edge1URL() { return env("SWITCHBOARD_URL_EDGE1", ""); }
std::string controlURL() { return env("SWITCHBOARD_CONTROL_URL", ""); }

int control(std::string const& path) {
    namespace http = boost::beast::http;
    std::string u = controlURL(); // http://127.0.0.1:PORT
    if (u.rfind("http://", 0) != 0) return 0;
    auto hostport = u.substr(7);
    auto colon = hostport.rfind(':');
    try {
        asio::io_context io;
        boost::beast::tcp_stream stream(io);
        stream.expires_after(std::chrono::seconds(90)); // a drain waits for its clients
        stream.connect(tcp::resolver(io).resolve(hostport.substr(0, colon), hostport.substr(colon + 1)));
        http::request<http::empty_body> req{http::verb::post, path, 11};
        req.set(http::field::host, hostport);
        http::write(stream, req);
        boost::beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(stream, buf, res);
        if (res.result_int() >= 300) ADD_FAILURE() << "control " << path << ": " << res.result_int() << " " << res.body();
        return static_cast<int>(res.result_int());
    } catch (std::exception const& e) {
        ADD_FAILURE() << "control " << path << ": " << e.what();
        return 0;
    }
}

std::string unique(std::string const& base) {
    static std::string const run = [] {
        std::random_device rd;
        return std::to_string(rd() % 1000000);
    }();
    static std::atomic<int> seq{0};
    return base + "-" + run + "-" + std::to_string(++seq);
}

std::string tokenV1(std::string const& app, std::string const& cert, std::string const& account, long long expiry) {
    std::string e = std::to_string(expiry), in = account + app + cert + e;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(in.data(), in.size(), md, &n, EVP_md5(), nullptr);
    std::string hex;
    char b[3];
    for (unsigned int i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02x", md[i]);
        hex += b;
    }
    return "1:" + app + ":" + e + ":" + hex;
}

std::function<bool(json const&)> field(std::string const& key, json const& value) {
    return [key, value](json const& e) { return e.contains(key) && e[key] == value; };
}

// ---- Recorder ----

void Recorder::add(json ev) {
    std::function<void(json const&)> hook;
    {
        std::lock_guard<std::mutex> lk(mu_);
        evs_.push_back(ev);
        threads_.push_back(std::this_thread::get_id());
        hook = onEvent;
    }
    cv_.notify_all();
    if (hook) hook(ev);
}

json Recorder::wait(std::string const& ev, std::function<bool(json const&)> pred, std::chrono::seconds d) {
    std::unique_lock<std::mutex> lk(mu_);
    json found;
    auto match = [&] {
        for (size_t i = 0; i < evs_.size(); ++i) {
            if (evs_[i]["ev"] != ev || (pred && !pred(evs_[i]))) continue;
            if (std::find(taken_.begin(), taken_.end(), i) != taken_.end()) continue;
            taken_.push_back(i);
            found = evs_[i];
            return true;
        }
        return false;
    };
    if (!cv_.wait_for(lk, d, match)) {
        std::string all;
        for (auto const& e : evs_) all += "  " + e.dump() + "\n";
        ADD_FAILURE() << "no " << ev << " within " << d.count() << " s; got:\n" << all;
        return json{{"ev", "missing " + ev}};
    }
    return found;
}

int Recorder::count(std::string const& ev, std::function<bool(json const&)> pred) {
    std::lock_guard<std::mutex> lk(mu_);
    int n = 0;
    for (auto const& e : evs_) {
        if (e["ev"] == ev && (!pred || pred(e))) ++n;
    }
    return n;
}

std::vector<json> Recorder::events() {
    std::lock_guard<std::mutex> lk(mu_);
    return evs_;
}

std::vector<std::thread::id> Recorder::threads() {
    std::lock_guard<std::mutex> lk(mu_);
    return threads_;
}

#define S(x) std::string(x, x##_size)
void Recorder::onReconnecting(uint32_t nretry) { add({{"ev", "onReconnecting"}, {"nretry", nretry}}); }
void Recorder::onReconnected(int fd) { add({{"ev", "onReconnected"}, {"fd", fd}}); }
void Recorder::onLoginSuccess(uint32_t uid, int fd) { add({{"ev", "onLoginSuccess"}, {"uid", uid}, {"fd", fd}}); }
void Recorder::onLogout(int ecode) { add({{"ev", "onLogout"}, {"ecode", ecode}}); }
void Recorder::onLoginFailed(int ecode) { add({{"ev", "onLoginFailed"}, {"ecode", ecode}}); }
void Recorder::onChannelJoined(char const* channelID, size_t channelID_size) {
    add({{"ev", "onChannelJoined"}, {"channelID", S(channelID)}});
}
void Recorder::onChannelJoinFailed(char const* channelID, size_t channelID_size, int ecode) {
    add({{"ev", "onChannelJoinFailed"}, {"channelID", S(channelID)}, {"ecode", ecode}});
}
void Recorder::onChannelLeaved(char const* channelID, size_t channelID_size, int ecode) {
    add({{"ev", "onChannelLeaved"}, {"channelID", S(channelID)}, {"ecode", ecode}});
}
void Recorder::onChannelUserJoined(char const* account, size_t account_size, uint32_t uid) {
    add({{"ev", "onChannelUserJoined"}, {"account", S(account)}, {"uid", uid}});
}
void Recorder::onChannelUserLeaved(char const* account, size_t account_size, uint32_t uid) {
    add({{"ev", "onChannelUserLeaved"}, {"account", S(account)}, {"uid", uid}});
}
void Recorder::onChannelUserList(int n, char** accounts, uint32_t* uids) {
    // Read every entry inside the callback: they are valid only now
    // (AddressSanitizer checks it).
    json a = json::array(), u = json::array();
    for (int i = 0; accounts != nullptr && accounts[i] != nullptr; ++i) {
        a.push_back(std::string(accounts[i]));
        u.push_back(uids[i]);
    }
    add({{"ev", "onChannelUserList"}, {"n", n}, {"accounts", a}, {"uids", u}});
}
void Recorder::onChannelQueryUserNumResult(char const* channelID, size_t channelID_size, int ecode, int num) {
    add({{"ev", "onChannelQueryUserNumResult"}, {"channelID", S(channelID)}, {"ecode", ecode}, {"num", num}});
}
void Recorder::onChannelQueryUserIsIn(char const* channelID, size_t channelID_size, char const* account, size_t account_size, int isIn) {
    add({{"ev", "onChannelQueryUserIsIn"}, {"channelID", S(channelID)}, {"account", S(account)}, {"isIn", isIn}});
}
void Recorder::onChannelAttrUpdated(char const* channelID, size_t channelID_size, char const* name, size_t name_size, char const* value, size_t value_size, char const* type, size_t type_size) {
    add({{"ev", "onChannelAttrUpdated"}, {"channelID", S(channelID)}, {"name", S(name)}, {"value", S(value)}, {"type", S(type)}});
}
void Recorder::onInviteReceived(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, char const* extra, size_t extra_size) {
    add({{"ev", "onInviteReceived"}, {"channelID", S(channelID)}, {"account", S(account)}, {"uid", uid}, {"extra", S(extra)}});
}
void Recorder::onInviteReceivedByPeer(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid) {
    add({{"ev", "onInviteReceivedByPeer"}, {"channelID", S(channelID)}, {"account", S(account)}, {"uid", uid}});
}
void Recorder::onInviteAcceptedByPeer(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, char const* extra, size_t extra_size) {
    add({{"ev", "onInviteAcceptedByPeer"}, {"channelID", S(channelID)}, {"account", S(account)}, {"uid", uid}, {"extra", S(extra)}});
}
void Recorder::onInviteRefusedByPeer(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, char const* extra, size_t extra_size) {
    add({{"ev", "onInviteRefusedByPeer"}, {"channelID", S(channelID)}, {"account", S(account)}, {"uid", uid}, {"extra", S(extra)}});
}
void Recorder::onInviteFailed(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, int ecode, char const* extra, size_t extra_size) {
    add({{"ev", "onInviteFailed"}, {"channelID", S(channelID)}, {"account", S(account)}, {"uid", uid}, {"ecode", ecode}, {"extra", S(extra)}});
}
void Recorder::onInviteEndByPeer(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, char const* extra, size_t extra_size) {
    add({{"ev", "onInviteEndByPeer"}, {"channelID", S(channelID)}, {"account", S(account)}, {"uid", uid}, {"extra", S(extra)}});
}
void Recorder::onInviteEndByMyself(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid) {
    add({{"ev", "onInviteEndByMyself"}, {"channelID", S(channelID)}, {"account", S(account)}, {"uid", uid}});
}
void Recorder::onMessageSendError(char const* messageID, size_t messageID_size, int ecode) {
    add({{"ev", "onMessageSendError"}, {"messageID", S(messageID)}, {"ecode", ecode}});
}
void Recorder::onMessageSendSuccess(char const* messageID, size_t messageID_size) {
    add({{"ev", "onMessageSendSuccess"}, {"messageID", S(messageID)}});
}
void Recorder::onMessageInstantReceive(char const* account, size_t account_size, uint32_t uid, char const* msg, size_t msg_size) {
    add({{"ev", "onMessageInstantReceive"}, {"account", S(account)}, {"uid", uid}, {"msg", S(msg)}});
}
void Recorder::onMessageChannelReceive(char const* channelID, size_t channelID_size, char const* account, size_t account_size, uint32_t uid, char const* msg, size_t msg_size) {
    add({{"ev", "onMessageChannelReceive"}, {"channelID", S(channelID)}, {"account", S(account)}, {"uid", uid}, {"msg", S(msg)}});
}
void Recorder::onInvokeRet(char const* callID, size_t callID_size, char const* err, size_t err_size, char const* resp, size_t resp_size) {
    add({{"ev", "onInvokeRet"}, {"callID", S(callID)}, {"err", S(err)}, {"resp", S(resp)}});
}
void Recorder::onError(char const* name, size_t name_size, int ecode, char const* desc, size_t desc_size) {
    add({{"ev", "onError"}, {"name", S(name)}, {"ecode", ecode}, {"desc", S(desc)}});
}
void Recorder::onQueryUserStatusResult(char const* name, size_t name_size, char const* status, size_t status_size) {
    add({{"ev", "onQueryUserStatusResult"}, {"name", S(name)}, {"status", S(status)}});
}
void Recorder::onUserAttrResult(char const* account, size_t account_size, char const* name, size_t name_size, char const* value, size_t value_size) {
    add({{"ev", "onUserAttrResult"}, {"account", S(account)}, {"name", S(name)}, {"value", S(value)}});
}
void Recorder::onUserAttrAllResult(char const* account, size_t account_size, char const* value, size_t value_size) {
    add({{"ev", "onUserAttrAllResult"}, {"account", S(account)}, {"value", S(value)}});
}
void Recorder::onLog(char const* txt, size_t txt_size) { add({{"ev", "onLog"}, {"msg", S(txt)}}); }
#undef S

// ---- Proxy ----

struct Proxy::Impl {
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::string host, port, path;
    std::atomic<bool> refusing{false};
    std::atomic<int> accepted{0};
    std::set<std::shared_ptr<tcp::socket>> socks; // io thread only
    std::thread th;

    void accept() {
        auto down = std::make_shared<tcp::socket>(io);
        acceptor.async_accept(*down, [this, down](boost::system::error_code ec) {
            if (ec) return;
            accept();
            ++accepted;
            if (refusing) {
                down->close();
                return;
            }
            auto up = std::make_shared<tcp::socket>(io);
            tcp::resolver r(io);
            boost::system::error_code rec;
            auto eps = r.resolve(host, port, rec);
            if (rec) return;
            asio::connect(*up, eps, rec);
            if (rec) return;
            socks.insert(down);
            socks.insert(up);
            pipe(down, up);
            pipe(up, down);
        });
    }

    void pipe(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
        auto buf = std::make_shared<std::array<char, 16384>>();
        from->async_read_some(asio::buffer(*buf), [this, from, to, buf](boost::system::error_code ec, size_t n) {
            if (ec) return cut(from, to);
            asio::async_write(*to, asio::buffer(*buf, n), [this, from, to, buf](boost::system::error_code ec, size_t) {
                if (ec) return cut(from, to);
                pipe(from, to);
            });
        });
    }

    void cut(std::shared_ptr<tcp::socket> a, std::shared_ptr<tcp::socket> b) {
        boost::system::error_code ignored;
        a->close(ignored);
        b->close(ignored);
        socks.erase(a);
        socks.erase(b);
    }
};

Proxy::Proxy(std::string const& target) : impl_(new Impl) {
    auto rest = target.substr(target.find("://") + 3); // ws://host:port/path
    auto slash = rest.find('/');
    auto hostport = rest.substr(0, slash);
    impl_->path = slash == std::string::npos ? "/" : rest.substr(slash);
    auto colon = hostport.rfind(':');
    impl_->host = hostport.substr(0, colon);
    impl_->port = hostport.substr(colon + 1);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    impl_->accept();
    impl_->th = std::thread([this] { impl_->io.run(); });
}

Proxy::~Proxy() {
    asio::post(impl_->io, [this] {
        impl_->acceptor.close();
        for (auto const& s : impl_->socks) {
            boost::system::error_code ignored;
            s->close(ignored);
        }
        impl_->socks.clear();
    });
    impl_->io.stop();
    impl_->th.join();
}

std::string Proxy::url() const {
    return "ws://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port()) + impl_->path;
}

void Proxy::drop() {
    std::promise<void> done;
    asio::post(impl_->io, [this, &done] {
        for (auto const& s : impl_->socks) {
            boost::system::error_code ignored;
            s->close(ignored);
        }
        impl_->socks.clear();
        done.set_value();
    });
    done.get_future().wait();
}

void Proxy::refuse(bool on) { impl_->refusing = on; }
int Proxy::accepted() const { return impl_->accepted; }

// ---- Instance ----

Instance::Instance(std::string const& url) {
    std::string app = appID();
    api = createAgoraSDKInstanceWin(app.c_str(), app.size());
    api->setServerUrl(url.c_str(), url.size());
    api->callbackSet(&rec);
}

Instance::~Instance() {
    if (api) api->destroy();
}

void Instance::login(std::string const& account) {
    std::string app = appID();
    api->login(P(app), P(account), P(kToken), 0, "", 0);
    rec.wait("onLoginSuccess");
}

void Instance::join(std::string const& channel) {
    api->channelJoin(channel.c_str(), channel.size());
    rec.wait("onChannelJoined", field("channelID", channel));
}

} // namespace sbtest
