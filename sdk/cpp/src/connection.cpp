// connection.cpp: Connection on Boost.Beast, for ws:// and wss:// alike.
#include "connection.hpp"

#include <deque>
#include <type_traits>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

namespace switchboard {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr char const* kSubprotocol = "switchboard.v1";
constexpr int kProtocolVersion = 1;
constexpr std::chrono::milliseconds kDefaultPing{10000};

struct ParsedURL {
    bool tls = false;
    std::string host, port, target;
};

bool parseURL(std::string const& url, ParsedURL& out) {
    std::string rest;
    if (url.rfind("ws://", 0) == 0) {
        rest = url.substr(5);
    } else if (url.rfind("wss://", 0) == 0) {
        out.tls = true;
        rest = url.substr(6);
    } else {
        return false;
    }
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    out.target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (!hostport.empty() && hostport[0] == '[') { // [::1]:7400
        auto end = hostport.find(']');
        if (end == std::string::npos) return false;
        out.host = hostport.substr(1, end - 1);
        out.port = end + 1 < hostport.size() && hostport[end + 1] == ':' ? hostport.substr(end + 2) : "";
    } else {
        auto colon = hostport.rfind(':');
        out.host = hostport.substr(0, colon);
        out.port = colon == std::string::npos ? "" : hostport.substr(colon + 1);
    }
    if (out.port.empty()) out.port = out.tls ? "443" : "80";
    return !out.host.empty();
}

using PlainWS = websocket::stream<beast::tcp_stream>;
using TlsWS = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

template <class WS>
class Conn : public Connection, public std::enable_shared_from_this<Conn<WS>> {
public:
    static constexpr bool kTLS = std::is_same<WS, TlsWS>::value;

    Conn(asio::io_context& io, std::string url, ParsedURL u, std::shared_ptr<ssl::context> tls,
         std::chrono::milliseconds hs, Handlers h)
        : url_(std::move(url)), u_(std::move(u)), tlsCtx_(std::move(tls)), ws_(make(io, tlsCtx_.get())),
          resolver_(io), idleTimer_(io), closeTimer_(io), hs_(hs), h_(std::move(h)) {}

    void start() {
        auto self = this->shared_from_this();
        idleTimer_.expires_after(hs_); // the whole dial, hello included
        idleTimer_.async_wait([self](error_code ec) { if (!ec) self->fail(0, "timed out"); });
        resolver_.async_resolve(u_.host, u_.port, [self](error_code ec, tcp::resolver::results_type r) {
            if (ec) return self->fail(0, "resolve: " + ec.message());
            beast::get_lowest_layer(self->ws_).async_connect(r, [self](error_code ec, tcp::endpoint) {
                if (ec) return self->fail(0, "connect: " + ec.message());
                self->afterConnect();
            });
        });
    }

    void send(std::string frame) override {
        if (dead_ || closing_) return;
        queue_.push_back(std::move(frame));
        if (opened_) pump();
    }

    void closeGracefully(std::chrono::milliseconds wait, std::function<void()> done) override {
        if (dead_ || closing_) {
            if (done) done();
            return;
        }
        closing_ = true;
        done_ = std::move(done);
        auto self = this->shared_from_this();
        closeTimer_.expires_after(wait);
        closeTimer_.async_wait([self](error_code ec) { if (!ec) self->finish(); });
        if (opened_) pump();
        else finish();
    }

    void close() override {
        if (dead_) return;
        dead_ = true;
        done_ = nullptr;
        teardown();
    }

    std::string const& url() const override { return url_; }

private:
    static WS make(asio::io_context& io, ssl::context* tls) {
        if constexpr (kTLS) return WS(io, *tls);
        else return WS(io);
    }

    void afterConnect() {
        auto self = this->shared_from_this();
        if constexpr (kTLS) {
            auto& s = ws_.next_layer();
            if (!SSL_set_tlsext_host_name(s.native_handle(), u_.host.c_str())) return fail(0, "tls: SNI");
            s.set_verify_callback(ssl::host_name_verification(u_.host));
            s.async_handshake(ssl::stream_base::client, [self](error_code ec) {
                if (ec) return self->fail(0, "tls: " + ec.message());
                self->wsHandshake();
            });
        } else {
            wsHandshake();
        }
    }

    void wsHandshake() {
        // Beast's own timeouts take over from the TCP stream's; the idle
        // rule is ours (3 × the hello's ping, pings counting as life).
        beast::get_lowest_layer(ws_).expires_never();
        websocket::stream_base::timeout t{};
        t.handshake_timeout = hs_;
        t.idle_timeout = websocket::stream_base::none();
        t.keep_alive_pings = false;
        ws_.set_option(t);
        ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
            req.set(beast::http::field::sec_websocket_protocol, kSubprotocol);
            req.set(beast::http::field::user_agent, "switchboard-sig-cpp/1.4");
        }));
        ws_.read_message_max(kMaxRead);
        std::weak_ptr<Conn> weak = this->shared_from_this();
        ws_.control_callback([weak](websocket::frame_type kind, beast::string_view) {
            if (auto self = weak.lock(); self && kind == websocket::frame_type::ping) self->touch();
        });
        std::string host = u_.host + ":" + u_.port;
        auto self = this->shared_from_this();
        ws_.async_handshake(host, u_.target, [self](error_code ec) {
            if (ec) return self->fail(0, "handshake: " + ec.message());
            self->read();
        });
    }

    void read() {
        auto self = this->shared_from_this();
        ws_.async_read(buf_, [self](error_code ec, size_t) {
            if (self->dead_) return;
            if (ec) {
                int code = ec == websocket::error::closed ? static_cast<int>(self->ws_.reason().code) : 0;
                return self->fail(code, ec.message());
            }
            std::string text = beast::buffers_to_string(self->buf_.data());
            self->buf_.consume(self->buf_.size());
            if (!self->opened_) {
                if (!self->hello(text)) return;
            } else {
                self->touch();
                if (!self->closing_ && !self->dead_ && self->h_.frame) self->h_.frame(self.get(), std::move(text));
            }
            if (!self->dead_) self->read();
        });
    }

    bool hello(std::string const& text) {
        auto j = nlohmann::json::parse(text, nullptr, false);
        if (!j.is_object() || j.value("ev", nlohmann::json()) != "hello") {
            fail(0, "first frame is not a hello");
            return false;
        }
        auto v = j.find("v");
        if (v != j.end() && v->is_number_integer() && v->get<int>() != 0 && v->get<int>() != kProtocolVersion) {
            fail(0, "edge speaks another protocol version");
            return false;
        }
        auto ping = kDefaultPing;
        auto p = j.find("ping");
        if (p != j.end() && p->is_number_integer() && p->get<int64_t>() > 0) ping = std::chrono::milliseconds(p->get<int64_t>());
        idle_ = 3 * ping;
        opened_ = true;
        touch();
        if (h_.open && !closing_) h_.open(this);
        if (!dead_) pump();
        return true;
    }

    // touch restarts the idle timer: 3 × ping without a frame or a ping
    // from the edge means the connection is lost.
    void touch() {
        if (dead_ || !opened_) return;
        idleTimer_.expires_after(idle_);
        auto self = this->shared_from_this();
        idleTimer_.async_wait([self](error_code ec) { if (!ec) self->fail(0, "no frame or ping from the edge"); });
    }

    void pump() {
        if (writing_ || dead_) return;
        if (queue_.empty()) {
            if (closing_ && !closeSent_) {
                closeSent_ = true;
                writing_ = true;
                auto self = this->shared_from_this();
                ws_.async_close(websocket::close_code::normal, [self](error_code) {
                    self->writing_ = false;
                    self->finish();
                });
            }
            return;
        }
        writing_ = true;
        ws_.text(true);
        auto self = this->shared_from_this();
        ws_.async_write(asio::buffer(queue_.front()), [self](error_code ec, size_t) {
            self->writing_ = false;
            if (self->dead_) return;
            self->queue_.pop_front();
            if (ec) return self->fail(0, "write: " + ec.message());
            self->pump();
        });
    }

    // fail ends the connection on an error and reports it once.
    void fail(int code, std::string const& why) {
        if (dead_) return;
        bool graceful = closing_;
        dead_ = true;
        teardown();
        if (graceful) {
            auto done = std::move(done_);
            done_ = nullptr;
            if (done) done();
        } else if (h_.closed) {
            h_.closed(this, code, why);
        }
    }

    // finish ends a graceful close.
    void finish() {
        if (dead_) return;
        dead_ = true;
        teardown();
        auto done = std::move(done_);
        done_ = nullptr;
        if (done) done();
    }

    void teardown() {
        queue_.clear();
        idleTimer_.cancel();
        closeTimer_.cancel();
        resolver_.cancel();
        error_code ignored;
        beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(ws_).close();
        // h_ stays: a handler may be running (and closing this); dead_
        // keeps the others from being called.
    }

    static constexpr size_t kMaxRead = 16 << 20; // an edge's frame is far smaller

    std::string url_;
    ParsedURL u_;
    std::shared_ptr<ssl::context> tlsCtx_; // before ws_: the stream uses it
    WS ws_;
    tcp::resolver resolver_;
    asio::steady_timer idleTimer_, closeTimer_;
    std::chrono::milliseconds hs_, idle_{3 * kDefaultPing};
    Handlers h_;
    beast::flat_buffer buf_;
    std::deque<std::string> queue_;
    std::function<void()> done_;
    bool opened_ = false, writing_ = false, closing_ = false, closeSent_ = false, dead_ = false;
};

// A dial that cannot start (a malformed URL) fails on the next turn of the
// loop, as any other failed dial does.
class FailedDial : public Connection {
public:
    explicit FailedDial(std::string url) : url_(std::move(url)) {}
    void send(std::string) override {}
    void closeGracefully(std::chrono::milliseconds, std::function<void()> done) override { if (done) done(); }
    void close() override { closed_ = true; }
    std::string const& url() const override { return url_; }
    bool closed_ = false;

private:
    std::string url_;
};

} // namespace

std::shared_ptr<Connection> Connection::dial(asio::io_context& io, std::string const& url,
                                             std::chrono::milliseconds hs, Handlers h) {
    ParsedURL u;
    if (!parseURL(url, u)) {
        auto f = std::make_shared<FailedDial>(url);
        asio::post(io, [f, h]() {
            if (!f->closed_ && h.closed) h.closed(f.get(), 0, "malformed URL");
        });
        return f;
    }
    if (u.tls) {
        auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
        ctx->set_default_verify_paths();
        ctx->set_verify_mode(ssl::verify_peer);
        auto c = std::make_shared<Conn<TlsWS>>(io, url, u, ctx, hs, std::move(h));
        c->start();
        return c;
    }
    auto c = std::make_shared<Conn<PlainWS>>(io, url, u, nullptr, hs, std::move(h));
    c->start();
    return c;
}

} // namespace switchboard
