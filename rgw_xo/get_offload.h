// Theory of operation: one worker's half of offloading a GET. By the time
// hand_off() runs, radosgw has authorized the request, the client has the
// response header and the first bytes, and what remains is a byte range of
// one object (a Split). hand_off():
//
//   locate the head object and its primary's host (OffloadService, off-thread)
//   → the responder link of that host (ResponderLinks)
//   → a ServePlan for the rest of the range, with a ticket binding it to this
//     client flow → take the socket out of the Beast stream → Offloader
//   → wait for the connection to come back, and put it back into the stream
//     with the bytes of the next request the responder read.
//
// Everything before the Offloader's point of no return leaves the client
// connection exactly as it was (socket and unread bytes), so the caller can
// serve the rest itself: that is a Fallback, with a short reason for metrics.
// After it, a failure means the connection is gone (Lost); a client that
// closed while the responder held it ends the connection there (Closed).
// A connection that comes back with none of the range sent (the responder
// got GO too late, or failed before its first byte) is a Fallback too: the
// client has seen only the gateway's bytes, and the caller relays the rest.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

#include "rgw_xo/byte_range.h"
#include "rgw_xo/offload_service.h"
#include "rgw_xo/relay.h"
#include "rgw_xo/responder_links.h"
#include "rgw_xo/small_objects.h"

namespace xo::gw {

/** struct HandoffResult - what became of the connection. */
struct HandoffResult {
    enum class Kind { returned, closed, fallback, lost } kind = Kind::fallback;
    std::string_view reason; ///< why it fell back or was lost (a metrics label)
    std::optional<handoff::HandoffTimes> times{}; ///< where the handoff's time went, when it happened
    /// body bytes the client acknowledged from the responder (TLS: record bytes, but for a returned connection)
    std::uint64_t responder_bytes = 0;
};

class GetOffload {
public:
    explicit GetOffload(OffloadService& service)
        : service_(service), links_(service.tls(), service.config().responder_port, service.config().ifname)
    {
    }

    /** threshold() - bodies larger than this are offloaded after this many relayed bytes. */
    std::uint64_t threshold() const { return service_.config().threshold; }

    /** small_objects() - this worker's memory of objects no larger than the threshold. */
    SmallObjects& small_objects() { return small_; }

    /**
     * hand_off() - have a responder send @split's remaining bytes of @name to @client.
     * @etag: radosgw's ETag header value (quoted).
     */
    boost::asio::awaitable<HandoffResult> hand_off(ClientSide client, rgw::ObjectName name, std::string etag,
                                                   Split split);

    /** close_links() - end the control channels once no connection needs them (shutdown). */
    void close_links() { links_.close_all("the gateway is shutting down"); }

private:
    OffloadService& service_;
    ResponderLinks links_;
    SmallObjects small_{service_.config().small_objects};
};

} // namespace xo::gw
