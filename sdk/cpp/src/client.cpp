// client.cpp: sessions, acknowledgements, resuming and reconnecting, as the
// Go SDK does them (sdk/session.go, sdk/reconnect.go, sdk/events.go).
#include "client.hpp"

#include <algorithm>
#include <cstdlib>

#include <boost/asio/post.hpp>

namespace switchboard {

namespace asio = boost::asio;
using agora_sdk_win::ICallBack;

namespace {

constexpr char const* kDefaultURL = "ws://127.0.0.1:7400/ws";
constexpr ms kHandshakeTimeout{10000};
constexpr ms kCloseWait{1000};
constexpr ms kBackoffMin{100}, kBackoffMax{2000};
// Longer than an edge's own wait for a receiver (10 s): it fires only when a
// message or its answer was lost with a connection.
constexpr ms kSendTimeout{15000};
constexpr size_t kMaxPending = 1024;

std::vector<std::string> splitURLs(std::string const& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t comma = s.find(',', start);
        std::string u = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        u.erase(0, u.find_first_not_of(" \t"));
        u.erase(u.find_last_not_of(" \t") + 1);
        if (!u.empty()) out.push_back(u);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

bool isMessage(std::string const& op) {
    return op == "messageInstantSend" || op == "messageChannelSend" || op == "messageChannelSendForce";
}

void removeFrom(std::vector<std::string>& v, std::string const& x) {
    v.erase(std::remove(v.begin(), v.end(), x), v.end());
}

bool contains(std::vector<std::string> const& v, std::string const& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

// Session is one login, from login to its end; it outlives connections.
struct Client::Session {
    explicit Session(asio::io_context& io) : wait(io) {}
    json login;
    std::string loginFrame;
    ms retryTime{0};
    int retryCount = 0; // 0: no limit

    std::shared_ptr<Connection> dialing, conn;
    asio::steady_timer wait; // the backoff between dials

    std::string secret; // from onLoginSuccess; "" before it and after resumeFailed
    uint64_t count = 0, acked = 0;
    bool loggedIn = false, loggingOut = false, ended = false;

    std::vector<std::string> channels, rejoining;
    std::deque<std::pair<json, std::string>> pending; // requests made while reconnecting
    std::map<std::string, std::shared_ptr<asio::steady_timer>> sends; // messages awaiting an answer
    bool tracked = false;

    Clock::time_point epStart;
    int epDials = 0;
};

Client::Client(std::string appID)
    : appID_(std::move(appID)), work_(asio::make_work_guard(io_)), rng_(std::random_device{}()) {
    char const* env = std::getenv("SWITCHBOARD_URL");
    if (env != nullptr) urls_ = splitURLs(env);
    if (urls_.empty()) urls_.push_back(kDefaultURL);
}

Client::~Client() = default;

void Client::start() {
    ioThread_ = std::thread([this] {
        for (;;) {
            try {
                io_.run();
                return;
            } catch (std::exception const& e) {
                log(std::string("internal error: ") + e.what());
            }
        }
    });
    cbThread_ = std::thread(&Client::runCallbacks, this, shared_from_this());
}

// ---- the callback queue ----

void Client::post(std::function<void(ICallBack*)> f) {
    std::lock_guard<std::mutex> lk(qmu_);
    if (qstopped_) return;
    queue_.push_back(std::move(f));
    qcv_.notify_one();
}

void Client::postEvent(json ev) {
    post([ev = std::move(ev)](ICallBack* cb) { deliver(cb, ev); });
}

void Client::log(std::string line) {
    postEvent(json{{"ev", "onLog"}, {"msg", std::move(line)}});
}

void Client::runCallbacks(std::shared_ptr<Client> keep) {
    std::unique_lock<std::mutex> lk(qmu_);
    for (;;) {
        qcv_.wait(lk, [this] { return qstopped_ || !queue_.empty(); });
        if (qstopped_) break;
        auto f = std::move(queue_.front());
        queue_.pop_front();
        lk.unlock();
        if (ICallBack* cb = cb_.load()) {
            try {
                f(cb);
            } catch (...) {
                // An app's exception must not end the callback thread.
            }
        }
        f = nullptr;
        lk.lock();
    }
    lk.unlock();
    // keep goes last: when destroy() was called from a callback, this thread
    // was detached and the client ends here.
    keep.reset();
}

// ---- API entry points ----

void Client::login(json req, ms retryTime, int retryCount) {
    if (destroyed_) return;
    if (str(req, "appId").empty()) req["appId"] = appID_;
    Fail why;
    std::string frame;
    if (!checkRequest(req, why) || !encode(req, frame, why)) {
        postEvent(failureEvent(req, why, "invalid login"));
        return;
    }
    asio::post(io_, [this, req = std::move(req), retryTime, retryCount]() mutable {
        doLogin(std::move(req), retryTime, retryCount);
    });
}

void Client::logout() {
    if (destroyed_) return;
    asio::post(io_, [this] { doLogout(); });
}

void Client::request(json req) {
    if (destroyed_) return;
    Fail why;
    std::string frame;
    if (!checkRequest(req, why) || !encode(req, frame, why)) {
        postEvent(failureEvent(req, why, why == Fail::TooLarge ? "parameter too large" : "invalid parameter"));
        return;
    }
    asio::post(io_, [this, req = std::move(req), frame = std::move(frame)]() mutable {
        doSend(std::move(req), std::move(frame));
    });
}

void Client::fail(json const& req, Fail why) {
    if (destroyed_) return;
    postEvent(failureEvent(req, why, why == Fail::TooLarge ? "parameter too large" : "invalid parameter"));
}

void Client::setServerURLs(std::string const& s) {
    auto urls = splitURLs(s);
    if (urls.empty()) return;
    std::lock_guard<std::mutex> lk(urlMu_);
    urls_ = std::move(urls);
    urlNext_ = 0;
}

void Client::destroy() {
    if (destroyed_.exchange(true)) return;
    asio::post(io_, [this] { shutdown(); });
    if (ioThread_.joinable()) ioThread_.join();
    {
        std::lock_guard<std::mutex> lk(qmu_);
        qstopped_ = true;
        queue_.clear();
        qcv_.notify_all();
    }
    if (cbThread_.get_id() == std::this_thread::get_id()) {
        cbThread_.detach(); // called from a callback: the thread ends after it
    } else if (cbThread_.joinable()) {
        cbThread_.join();
    }
}

// shutdown ends the session (logging out, so that peers see the user leave
// at once) and stops the network thread once the close frame is out.
void Client::shutdown() {
    if (sess_) end(sess_, true, nullptr);
    work_.reset();
    if (gracefulCloses_ == 0) io_.stop();
}

// ---- the network thread ----

void Client::doLogin(json req, ms retryTime, int retryCount) {
    if (destroyed_) return;
    if (sess_ && sess_->loggingOut) {
        // The API lets a caller log in again right after logout, without
        // waiting for onLogout: the old session ends here.
        end(sess_, false, [](ICallBack* cb) { cb->onLogout(LogoutUser); });
    }
    if (status_ != 0) {
        log("login ignored: status is " + std::to_string(status_.load()));
        return;
    }
    auto s = std::make_shared<Session>(io_);
    Fail why;
    encode(req, s->loginFrame, why);
    s->login = std::move(req);
    s->retryTime = retryTime;
    s->retryCount = retryCount;
    s->epStart = Clock::now();
    sess_ = s;
    status_ = 1;
    connect(s, "");
}

void Client::doLogout() {
    auto s = sess_;
    if (!s) {
        postEvent(failureEvent(json{{"op", "logout"}}, Fail::NotLoggedIn, "not logged in"));
    } else if (status_ == 1) {
        end(s, true, [](ICallBack* cb) { cb->onLoginFailed(LoginCancel); });
    } else if (status_ == 3) {
        end(s, true, [](ICallBack* cb) { cb->onLogout(LogoutUser); });
    } else if (s->loggingOut) {
        log("logout ignored: already logging out");
    } else {
        // The session ends when the edge answers onLogout(101), or here if
        // the connection drops first.
        s->loggingOut = true;
        s->conn->send(R"({"op":"logout"})");
    }
}

void Client::doSend(json req, std::string frame) {
    auto s = sess_;
    if (destroyed_) return;
    if (!s || (status_ != 2 && status_ != 3)) {
        postEvent(failureEvent(req, Fail::NotLoggedIn, "not logged in"));
    } else if (status_ == 3) {
        if (s->pending.size() >= kMaxPending) {
            postEvent(failureEvent(req, Fail::QueueFull, "not sent: too many requests while reconnecting"));
            return;
        }
        track(s, req);
        s->pending.emplace_back(std::move(req), std::move(frame));
    } else {
        track(s, req);
        s->conn->send(std::move(frame));
    }
}

void Client::connect(std::shared_ptr<Session> s, std::string moveTo) {
    if (s->ended) return;
    // A reconnection's every dial is a retry; a first login's first is not.
    int retry = s->epDials + (s->loggedIn ? 1 : 0);
    ms wait = s->epDials > 0 ? backoff(s->epDials) : ms(0);
    if (retry > 0 && exhausted(s, retry, wait)) return;
    std::string url = moveTo;
    if (url.empty()) {
        std::lock_guard<std::mutex> lk(urlMu_);
        url = urls_[urlNext_ % urls_.size()];
        urlNext_ = (urlNext_ + 1) % urls_.size();
    }
    s->epDials++;
    bool reconnecting = s->loggedIn;
    auto go = [this, s, url, retry, reconnecting] {
        if (s->ended) return;
        if (reconnecting) {
            auto n = static_cast<uint32_t>(retry);
            post([n](ICallBack* cb) { cb->onReconnecting(n); });
        }
        log("connecting to " + url);
        Connection::Handlers h;
        h.open = [this](Connection* c) { opened(c); };
        h.frame = [this](Connection* c, std::string text) { received(c, std::move(text)); };
        h.closed = [this](Connection* c, int code, std::string const& why) { closed(c, code, why); };
        s->dialing = Connection::dial(io_, url, kHandshakeTimeout, std::move(h));
    };
    if (wait.count() > 0) {
        s->wait.expires_after(wait);
        s->wait.async_wait([go](boost::system::error_code ec) { if (!ec) go(); });
    } else {
        go();
    }
}

bool Client::exhausted(std::shared_ptr<Session> const& s, int retry, ms wait) {
    bool over = s->retryCount > 0 && retry > s->retryCount;
    if (Clock::now() - s->epStart + wait >= s->retryTime) over = true;
    if (!over) return false;
    if (s->loggedIn) {
        log("reconnection budget spent");
        end(s, false, [](ICallBack* cb) { cb->onLogout(LogoutNet); });
    } else {
        log("no edge reachable");
        end(s, false, [](ICallBack* cb) { cb->onLoginFailed(LoginNet); });
    }
    return true;
}

// backoff is min doubling to max, with jitter so that the clients of a
// restarted edge do not all come back at once.
ms Client::backoff(int dials) {
    ms d = kBackoffMin;
    for (int i = 1; i < dials && d < kBackoffMax; ++i) d *= 2;
    d = std::min(d, kBackoffMax);
    std::uniform_int_distribution<int64_t> j(0, d.count() / 2);
    return d / 2 + ms(j(rng_));
}

void Client::opened(Connection* c) {
    auto s = sess_;
    if (!s || s->ended || s->dialing.get() != c) return;
    s->conn = std::move(s->dialing);
    if (!s->secret.empty()) {
        s->acked = s->count; // a resume acknowledges what it counts
        json r{{"op", "resume"}, {"appId", str(s->login, "appId")}, {"account", str(s->login, "account")},
               {"session", s->secret}, {"n", s->count}};
        s->conn->send(r.dump());
    } else {
        s->conn->send(s->loginFrame);
    }
}

void Client::closed(Connection* c, int code, std::string const& why) {
    auto s = sess_;
    if (!s || s->ended) return;
    if (s->dialing.get() == c) {
        s->dialing.reset();
        log("connecting to " + c->url() + ": " + why);
        connect(s, "");
        return;
    }
    if (s->conn.get() != c) return;
    log("connection to " + c->url() + " lost: " + why);
    lost(s, code, "");
}

void Client::lost(std::shared_ptr<Session> const& s, int code, std::string const& moveTo) {
    if (s->conn) s->conn->close();
    s->conn.reset();
    // The edge closes with these after onLogout(103/105), which normally
    // arrives first; the close alone must also stop a resume.
    if (code == kCloseKicked) return end(s, false, [](ICallBack* cb) { cb->onLogout(LogoutKicked); });
    if (code == kCloseTokenExpired) return end(s, false, [](ICallBack* cb) { cb->onLogout(LogoutTokenExpired); });
    if (s->loggingOut) return end(s, false, [](ICallBack* cb) { cb->onLogout(LogoutUser); });
    if (status_ == 2) {
        status_ = 3; // a new round of attempts, with its own budget
        s->epStart = Clock::now();
        s->epDials = 0;
    }
    connect(s, moveTo);
}

void Client::received(Connection* c, std::string text) {
    auto s = sess_;
    if (!s || s->ended || s->conn.get() != c) return;
    auto ev = json::parse(text, nullptr, false);
    if (!ev.is_object()) {
        log("undecodable frame");
        count(*s, false);
        return;
    }
    handle(s, std::move(ev));
}

void Client::handle(std::shared_ptr<Session> const& s, json ev) {
    std::string e = str(ev, "ev");
    if (e == "hello") return;
    if (e == "onLoginSuccess") {
        s->secret = str(ev, "session");
        s->count = s->acked = 0;
        status_ = 2;
        if (s->loggedIn) {
            // A login after resumeFailed: the new session is in no channel
            // yet, so join the old ones before anything queued.
            for (auto const& ch : s->channels) s->conn->send(json{{"op", "channelJoin"}, {"channelID", ch}}.dump());
            s->rejoining = s->channels;
            flush(*s);
            post([](ICallBack* cb) { cb->onReconnected(0); });
        } else {
            s->loggedIn = true;
            postEvent(std::move(ev));
        }
        return;
    }
    if (e == "onLoginFailed") {
        if (s->loggedIn) {
            end(s, false, [](ICallBack* cb) { cb->onLogout(LogoutNet); });
        } else {
            end(s, false, [ev](ICallBack* cb) { deliver(cb, ev); });
        }
        return;
    }
    if (e == "onReconnected") {
        status_ = 2;
        flush(*s);
        postEvent(std::move(ev));
        return;
    }
    if (e == "resumeFailed") {
        log("resume failed; logging in again");
        s->secret.clear();
        s->count = s->acked = 0;
        s->conn->send(s->loginFrame);
        return;
    }
    if (e == "move") {
        log("edge asks to move");
        lost(s, 0, str(ev, "url"));
        return;
    }
    count(*s, flag(ev, "ack"));
    std::string ch = str(ev, "channelID");
    if (e == "onChannelJoined") {
        if (!contains(s->channels, ch)) s->channels.push_back(ch);
        removeFrom(s->rejoining, ch);
    } else if (e == "onChannelLeaved") {
        removeFrom(s->channels, ch);
    } else if (e == "onChannelJoinFailed") {
        // Only a failed re-join takes a channel off the list.
        if (contains(s->rejoining, ch)) {
            removeFrom(s->rejoining, ch);
            removeFrom(s->channels, ch);
        }
    } else if (e == "onMessageSendSuccess" || e == "onMessageSendError") {
        if (!answered(*s, str(ev, "messageID"))) {
            log("late answer for message " + str(ev, "messageID") + " dropped: it timed out");
            return;
        }
    } else if (e == "onLogout") {
        // Whatever the code, the session is over: never resume it.
        end(s, false, [ev](ICallBack* cb) { deliver(cb, ev); });
        return;
    }
    postEvent(std::move(ev));
}

// count counts an event frame and acknowledges at once when it asks, or
// when kAckEvery frames are unacknowledged.
void Client::count(Session& s, bool ack) {
    if (s.secret.empty() || !s.conn) return;
    s.count++;
    if (ack || s.count - s.acked >= kAckEvery) {
        s.acked = s.count;
        s.conn->send(json{{"op", "ack"}, {"n", s.count}}.dump());
    }
}

void Client::flush(Session& s) {
    for (auto& p : s.pending) s.conn->send(std::move(p.second));
    s.pending.clear();
}

// track starts the answer timer of a message: one sent just before a
// connection dropped may never reach an edge, and its sender must still
// learn that it was not delivered.
void Client::track(std::shared_ptr<Session> const& s, json const& req) {
    std::string op = str(req, "op"), id = str(req, "msgID");
    if (!isMessage(op) || id.empty()) return;
    s->tracked = true;
    auto t = std::make_shared<asio::steady_timer>(io_);
    if (auto old = s->sends.find(id); old != s->sends.end()) old->second->cancel();
    s->sends[id] = t;
    t->expires_after(kSendTimeout);
    t->async_wait([this, s, req, id, t](boost::system::error_code ec) {
        if (ec || destroyed_) return;
        auto it = s->sends.find(id);
        if (it == s->sends.end() || it->second != t) return;
        s->sends.erase(it);
        postEvent(failureEvent(req, Fail::Timeout, "no answer"));
    });
}

bool Client::answered(Session& s, std::string const& id) {
    auto it = s.sends.find(id);
    if (it == s.sends.end()) return !s.tracked || id.empty();
    it->second->cancel();
    s.sends.erase(it);
    return true;
}

// end ends session s: status 0, its dial and connection closed (after a
// logout frame when logout is set), its queued requests failed, then the
// callback then. Messages in flight keep their timers: an edge may still
// have delivered them.
void Client::end(std::shared_ptr<Session> s, bool logout, std::function<void(ICallBack*)> then) {
    if (s->ended) return;
    s->ended = true;
    s->wait.cancel();
    if (sess_ == s) {
        sess_.reset();
        status_ = 0;
    }
    if (s->dialing) {
        s->dialing->close();
        s->dialing.reset();
    }
    if (s->conn) {
        if (logout && !s->loggingOut) s->conn->send(R"({"op":"logout"})");
        ++gracefulCloses_;
        s->conn->closeGracefully(kCloseWait, [this] {
            if (--gracefulCloses_ == 0 && destroyed_) io_.stop();
        });
        s->conn.reset();
    }
    for (auto& p : s->pending) {
        if (auto it = s->sends.find(str(p.first, "msgID")); it != s->sends.end()) {
            it->second->cancel();
            s->sends.erase(it);
        }
        postEvent(failureEvent(p.first, Fail::SessionEnded, "not sent: the session ended"));
    }
    s->pending.clear();
    if (destroyed_) {
        for (auto& kv : s->sends) kv.second->cancel();
        s->sends.clear();
    }
    if (then) post(std::move(then));
}

} // namespace switchboard
