// Theory of operation: the gateway's standing connection to one responder.
// A link owns the authenticated control channel and the FlowMux reading it,
// plus the two facts the data plane needs to send that responder a client's
// packets: its data address (where restored sockets live) and the MAC the
// redirected frames are addressed to. The mux reader runs as its own
// coroutine holding a reference to the link from the moment it is spawned
// (before its body first runs), so the link lives as long as anyone (the
// reader, an in-flight handoff) still uses it; an owner that gives a link up
// before the channel ended closes it, which ends the reader. When the channel
// ends, every waiting handoff fails with the reason and alive() turns false;
// handoffs to a dead link are refused at once so the caller serves the
// request itself. A dead link is not reconnected: the owner replaces it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "common/handoff/control_channel.h"
#include "common/endpoint.h"
#include "common/handoff/flow_mux.h"

namespace xo::handoff {

class ResponderLink {
public:
    /** struct Address - where a responder is reached. */
    struct Address {
        boost::asio::ip::tcp::endpoint control; ///< its control server
        boost::asio::ip::address data;          ///< its own address for restored sockets
        Mac mac {};                             ///< destination MAC of redirected frames
    };

    /**
     * connect() - open and authenticate the control channel to @to.
     * @tls: a client-role ControlTls.
     * @deadline: for the TCP connect and the TLS handshake together.
     *
     * Starts the channel's reader on the current executor.
     * Return: the live link, or an error.
     */
    static boost::asio::awaitable<Result<std::shared_ptr<ResponderLink>>>
    connect(std::shared_ptr<ControlTls> tls, Address to, Deadline deadline);

    ResponderLink(const ResponderLink&) = delete;
    ResponderLink& operator=(const ResponderLink&) = delete;

    /** alive() - whether the control channel is still up. */
    bool alive() const { return channel_->is_open() && !ended_; }

    /** next_flow_id() - a flow id not used before on this channel. */
    std::uint64_t next_flow_id() { return ++last_flow_id_; }

    /** set_mac() - the responder's MAC, when it was learnt only by connecting (which resolved it). */
    void set_mac(const Mac& mac) { address_.mac = mac; }

    /**
     * close() - end the control channel now, for an owner that gives the link
     * up: the reader then ends and drops its reference, waiting handoffs fail
     * with @reason and alive() turns false.
     */
    void close(const std::string& reason);

    FlowMux& mux() { return *mux_; }
    const Address& address() const { return address_; }
    const std::string& name() const { return name_; }

private:
    ResponderLink(std::unique_ptr<ControlChannel> channel, Address address);
    static boost::asio::awaitable<void> read_until_closed(std::shared_ptr<ResponderLink> self);

    std::unique_ptr<ControlChannel> channel_;
    std::unique_ptr<FlowMux> mux_;
    Address address_;
    std::string name_;
    std::uint64_t last_flow_id_ = 0;
    bool ended_ = false;
};

} // namespace xo::handoff
