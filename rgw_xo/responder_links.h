// Theory of operation: one worker's control channels to the responders, one
// per OSD host, opened on first use and kept. A link whose channel died is
// replaced on a later request, at most once per second per host; meanwhile
// requests for that host are relayed, so a dead responder costs no client
// more than one short connect timeout. Requests that arrive while a connect
// is in flight wait for it (as long as the connect may take).
// Each link also carries the responder's MAC, read from the neighbour table
// right after connecting (the connect itself resolved it); a link whose MAC
// cannot be read (a responder behind a router, or on another NIC) is closed
// again and the request relayed. Links belong to the worker's io_context:
// nothing here is shared between threads.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/handoff/control_tls.h"
#include "common/handoff/responder_link.h"

namespace xo::gw {

class ResponderLinks {
public:
    /**
     * @tls: the gateway's client-role ControlTls.
     * @port: the control port of every responder.
     * @ifname: the public NIC, whose neighbour table holds the responders' MACs.
     */
    ResponderLinks(std::shared_ptr<handoff::ControlTls> tls, std::uint16_t port, std::string ifname)
        : tls_(std::move(tls)), port_(port), ifname_(std::move(ifname))
    {
    }

    /**
     * link() - a live control channel to the responder on @host (an IP address).
     * Return: the link, or why there is none now.
     */
    boost::asio::awaitable<Result<std::shared_ptr<handoff::ResponderLink>>> link(std::string host);

    /** close_all() - end every link (a drained worker: their readers would keep its io_context running). */
    void close_all(const std::string& reason);

private:
    struct Slot {
        std::shared_ptr<handoff::ResponderLink> link;
        Clock::time_point last_attempt {};
        bool connecting = false;
    };

    std::shared_ptr<handoff::ControlTls> tls_;
    std::uint16_t port_;
    std::string ifname_;
    std::map<std::string, Slot> slots_;
};

} // namespace xo::gw
