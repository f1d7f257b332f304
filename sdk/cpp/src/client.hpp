// client.hpp: one SDK instance's engine, behind the IAgoraAPI facade.
//
// Threads: each instance has two of its own. The network thread runs an
// Asio io_context and owns every piece of session state (connection,
// resume secret, frame count, queued requests, message timers); API calls
// only check their arguments and post to it. The callback thread drains an
// unbounded queue of callbacks, in order, calling the app with no lock held.
// So an API call never waits for a callback, a callback may call the API
// (destroy() included), and a slow callback never stalls acknowledgements
// or pongs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "connection.hpp"
#include "wire.hpp"

namespace switchboard {

using Clock = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

class Client : public std::enable_shared_from_this<Client> {
public:
    explicit Client(std::string appID);
    ~Client();

    // start runs the two threads; the callback thread keeps the client alive
    // until it ends.
    void start();

    // API entry points, from any thread.
    void login(json req, ms retryTime, int retryCount);
    void logout();
    void request(json req);
    // fail reports a request refused before it was built (1004, 1005).
    void fail(json const& req, Fail why);
    void setServerURLs(std::string const& commaSeparated);
    int status() const { return status_.load(); }
    void callbackSet(agora_sdk_win::ICallBack* cb) { cb_.store(cb); }
    agora_sdk_win::ICallBack* callbackGet() const { return cb_.load(); }
    // destroy logs out, closes the connection and stops both threads. No
    // callback starts after it returns; one that is running (the caller, say)
    // finishes on its own.
    void destroy();

private:
    struct Session;

    // Callback queue.
    void post(std::function<void(agora_sdk_win::ICallBack*)> f);
    void postEvent(json ev);
    void log(std::string line);
    void runCallbacks(std::shared_ptr<Client> keep);

    // Network thread.
    void doLogin(json req, ms retryTime, int retryCount);
    void doLogout();
    void doSend(json req, std::string frame);
    void connect(std::shared_ptr<Session> s, std::string moveTo);
    bool exhausted(std::shared_ptr<Session> const& s, int retry, ms wait);
    ms backoff(int dials);
    void opened(Connection* c);
    void received(Connection* c, std::string text);
    void closed(Connection* c, int code, std::string const& why);
    void lost(std::shared_ptr<Session> const& s, int code, std::string const& moveTo);
    void handle(std::shared_ptr<Session> const& s, json ev);
    void count(Session& s, bool ack);
    void flush(Session& s);
    void track(std::shared_ptr<Session> const& s, json const& req);
    bool answered(Session& s, std::string const& id);
    void end(std::shared_ptr<Session> s, bool logout, std::function<void(agora_sdk_win::ICallBack*)> then);
    void shutdown();

    std::string appID_;

    // io_ first: everything below may hold its timers and sockets.
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread ioThread_, cbThread_;

    std::atomic<agora_sdk_win::ICallBack*> cb_{nullptr};
    std::atomic<int> status_{0};
    std::atomic<bool> destroyed_{false};

    std::mutex qmu_;
    std::condition_variable qcv_;
    std::deque<std::function<void(agora_sdk_win::ICallBack*)>> queue_;
    bool qstopped_ = false;

    // Network thread only.
    std::mutex urlMu_; // setServerUrl may come from any thread
    std::vector<std::string> urls_;
    size_t urlNext_ = 0;
    std::shared_ptr<Session> sess_;
    int gracefulCloses_ = 0;
    std::mt19937_64 rng_;
};

} // namespace switchboard
