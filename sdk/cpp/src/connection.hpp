// connection.hpp: one WebSocket connection to an edge (ws:// or wss://),
// driven entirely on its instance's network thread. It dials, reads the
// edge's hello, then reads frames and writes queued frames in order; Beast
// answers the edge's pings. Nothing here knows about sessions.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

namespace switchboard {

class Connection {
public:
    struct Handlers {
        // The hello arrived: the connection is ready for login or resume.
        std::function<void(Connection*)> open;
        // A text frame arrived.
        std::function<void(Connection*, std::string)> frame;
        // The connection ended (or never opened). closeCode is the status of
        // the edge's close frame, 0 if there was none.
        std::function<void(Connection*, int closeCode, std::string const& why)> closed;
    };

    // dial starts connecting to url (ws://host[:port]/path or wss://…).
    // Every handler runs on io's thread; none runs after close().
    static std::shared_ptr<Connection> dial(boost::asio::io_context& io, std::string const& url,
                                            std::chrono::milliseconds handshakeTimeout, Handlers h);

    virtual ~Connection() = default;

    // send queues a text frame; frames are written in the order queued.
    virtual void send(std::string frame) = 0;
    // closeGracefully writes what is queued, then a close frame, then calls
    // done (at most after closeWait); no handler but done runs after it.
    virtual void closeGracefully(std::chrono::milliseconds closeWait, std::function<void()> done) = 0;
    // close drops the connection at once; no handler runs after it.
    virtual void close() = 0;
    virtual std::string const& url() const = 0;
};

} // namespace switchboard
