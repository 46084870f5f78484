// Theory of operation: the gateway side of a connection handoff.
//
// offload() moves one accepted client connection to a responder:
//   BLOCK the client→gateway flow on the data plane; save the socket's TCP
//   state (it stays in repair mode); OFFER it to the responder with the bytes
//   the application read but did not consume, an opaque payload and a
//   ticket; await READY (the responder restored the socket, still silent, and
//   installed its source rewrite); turn BLOCK into REDIRECT towards the
//   restored socket's address and port; close our socket while still in
//   repair mode (nothing reaches the wire); send GO.
// Until the socket is closed every failure is undone — ABORT to the
// responder, BLOCK removed, repair mode left with the socket intact — and the
// caller gets the socket back to serve the request itself (Fallback). After
// the close the connection belongs to the responder.
//
// await_return() takes it back when the responder is done:
//   RETURN_PREPARE → BLOCK again (replacing REDIRECT) → READY → RETURN
//   (TCP state and the client bytes the responder read) → restore the socket
//   on the gateway's public address and original port → remove the flow entry
//   → leave repair mode (the window probe restarts the client at once) → DONE.
// The answer to RETURN_PREPARE is the protocol's READY message: "the flow is
// blocked, send the state". Instead of RETURN_PREPARE, or instead of RETURN,
// the responder may send DONE: the client closed its side while the
// responder held the connection (a half-closed socket cannot be saved), so
// the responder closes it there. The gateway then points the flow at the
// responder again (REDIRECT, so the client's last ACK reaches it), waits
// (bounded) for the responder's second DONE — the connection is closed —
// and removes the entry; there is nothing to return. A responder that dies, stalls past the hold time
// or aborts loses the connection: the flow entry is removed, so the client's
// next packet meets the gateway's stack without a socket and is reset —
// never a blocked flow left behind.
//
// Every data plane entry is owned by a FlowEntry, every control flow mailbox
// is closed on every exit. Per-step durations are measured for benchmarks.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <variant>

#include "control_channel.h"
#include "flow_mailbox.h"
#include "handoff_messages.h"
#include "map_entries.h"
#include "responder_link.h"
#include "socket_ops.h"
#include "unique_fd.h"

namespace xo::handoff {

/** struct OffloadTimeouts - how long the gateway waits for each answer. */
struct OffloadTimeouts {
    Clock::duration reply = std::chrono::seconds(2);  ///< READY after OFFER, RETURN after READY, sends
    Clock::duration hold = std::chrono::minutes(5);   ///< longest a responder may keep a connection
    Clock::duration closing = std::chrono::seconds(5); ///< a close at the responder, first DONE to last
};

/** struct OffloadRequest - a connection and what the responder needs to serve it. */
struct OffloadRequest {
    UniqueFd socket;   ///< the accepted, ESTABLISHED client connection
    Bytes read_ahead;  ///< client bytes already read from it but not consumed
    Bytes app_payload; ///< opaque to the engine
    Bytes ticket;      ///< authorizes the responder to serve this flow
};

/** struct HandoffTimes - where one handoff's time went, on the gateway. */
struct HandoffTimes {
    Clock::duration block {}, save {}, rpc {}, redirect {}, close {}, total {};
};

/** struct ReturnTimes - where one return's time went, on the gateway. */
struct ReturnTimes {
    Clock::duration block {}, restore {}, total {};
};

/** struct Offloaded - a connection now served by a responder. */
struct Offloaded {
    std::shared_ptr<ResponderLink> link;
    std::uint64_t flow = 0;
    TcpAsioEndpoint public_endpoint; ///< the gateway's address and port the client uses
    FlowMailbox mailbox;             ///< the flow's messages on the link
    FlowEntry entry;                 ///< the REDIRECT entry
    bpf::RedirectTarget target;      ///< where it points
    HandoffTimes times;
};

/** struct Fallback - the handoff did not happen; the caller serves the request. */
struct Fallback {
    UniqueFd socket; ///< the unchanged connection (invalid only if it could not be recovered)
    Error reason;
    std::optional<RefuseReason> refused; ///< the responder's reason, when it refused the OFFER
};

/** struct Lost - the connection failed after the point of no return. */
struct Lost {
    Error reason;
};

using OffloadOutcome = std::variant<Offloaded, Fallback, Lost>;

/** struct ReturnedConnection - a connection back on the gateway, out of repair mode. */
struct ReturnedConnection {
    UniqueFd socket;   ///< blocking descriptor of the restored connection
    Bytes read_ahead;  ///< client bytes the responder read but did not consume
    Bytes app_payload; ///< opaque, from the responder
    ReturnTimes times;
};

class Offloader {
public:
    /**
     * Offloader() - hand connections off through @flows.
     * @flows: the gateway data plane's flow table (outlives the offloader).
     * @gateway_mac: MAC of the public NIC, the source of redirected frames.
     */
    Offloader(bpf::FlowTable& flows, bpf::Mac gateway_mac, OffloadTimeouts timeouts = {});

    /**
     * offload() - move @request's connection to the responder behind @link.
     *
     * Return: Offloaded (await its return next), Fallback (the socket is back
     * in normal operation; serve the request locally) or Lost.
     */
    boost::asio::awaitable<OffloadOutcome> offload(std::shared_ptr<ResponderLink> link, OffloadRequest request);

    /**
     * await_return() - wait for the responder to give @flow's connection back.
     *
     * Return: the restored connection; nullopt if the connection ended at
     * the responder (the client closed it); or an error once it is gone for
     * good. The flow entry is removed in every case.
     */
    boost::asio::awaitable<Result<std::optional<ReturnedConnection>>> await_return(Offloaded flow);

private:
    boost::asio::awaitable<Result<std::optional<ReturnedConnection>>> closed_at_responder(Offloaded& flow);
    boost::asio::awaitable<Result<std::optional<ReturnedConnection>>> take_back(Offloaded& flow,
                                                                                Clock::time_point start);

    bpf::FlowTable& flows_;
    bpf::Mac gateway_mac_;
    OffloadTimeouts timeouts_;
};

} // namespace xo::handoff
