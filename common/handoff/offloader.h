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
// Nothing the responder says about addresses is trusted: a READY naming an
// address other than the chosen responder's own (or port 0) is undone like a
// refusal, so the client's packets are only ever redirected to the host the
// gateway picked; a RETURN whose TCP state names another client than the one
// offered is not restored (that would connect the gateway's public address
// to whoever the responder named) and the flow is lost instead: ABORT to the
// responder, and the real client is reset from the state saved at OFFER, as
// for any flow lost after GO (below).
// Until the socket is closed every failure is undone — ABORT to the
// responder, BLOCK removed, repair mode left with the socket intact — and the
// caller gets the socket back to serve the request itself (Fallback). After
// the close the connection belongs to the responder.
//
// await_return() follows the flow until the responder is done with it.
// While it serves, the responder sends PROGRESS every second with the bytes
// the client has acknowledged; a transfer may take as long as it takes while
// that number grows, and is given up once it has not grown for the stall
// timeout (a stopped or wedged responder, a client that stopped reading, a
// RADOS read that never completes). Then the connection is taken back:
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
// and removes the entry; there is nothing to return.
//
// A resumable ABORT before any PROGRESS (GO reached the responder too late:
// it closed its restored socket silently) means nothing was sent from the
// responder, so the state the gateway saved is still the connection's: the
// gateway restores it from that state and the caller serves the request
// itself (the client sees a slower response, never an error). Any other
// failure after GO — a dead channel, a stall, a non-resumable ABORT — loses
// the connection, and the gateway makes the client notice at once rather
// than wait on a silent socket. Only the client knows where its stream
// stands, so the gateway asks it: it BLOCKs the flow again, restores the
// saved connection just long enough to send one window probe from an old
// sequence number (with its TCP timestamp moved on by the time since the
// save, or the client would drop it as older than the responder's segments),
// and closes that socket silently. The client answers with a duplicate ACK;
// the data plane drops it but records its sequence and acknowledgment
// numbers in the flow entry; the gateway then restores a socket at exactly
// that point and closes it with an RST, which the client accepts. A client
// that does not answer within three probes is left to its own timeouts.
//
// Every data plane entry is owned by a FlowEntry, every control flow mailbox
// is closed on every exit. Per-step durations are measured for benchmarks.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <variant>

#include "common/handoff/control_channel.h"
#include "common/handoff/flow_mailbox.h"
#include "common/handoff/handoff_messages.h"
#include "common/handoff/map_entries.h"
#include "common/handoff/responder_link.h"
#include "common/handoff/socket_ops.h"
#include "common/tcp/tcp_state.h"
#include "common/unique_fd.h"

namespace xo::handoff {

/** struct OffloadTimeouts - how long the gateway waits for each answer. */
struct OffloadTimeouts {
    Clock::duration reply = std::chrono::seconds(2);  ///< READY after OFFER, RETURN after READY, sends
    Clock::duration stall = std::chrono::seconds(10); ///< longest a served flow may go without progress
    Clock::duration closing = std::chrono::seconds(5); ///< a close at the responder, first DONE to last
};

/** struct OffloadRequest - a connection and what the responder needs to serve it. */
struct OffloadRequest {
    UniqueFd socket;   ///< the accepted, ESTABLISHED client connection
    Bytes read_ahead;  ///< client bytes already read from it but not consumed
    Bytes app_payload; ///< opaque to the engine
    Bytes ticket;      ///< authorizes the responder to serve this flow
    std::uint64_t bytes_to_send = 0; ///< what the responder will send (0: unknown): RedirectTarget's hint
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
    RedirectTarget target;           ///< where it points
    HandoffTimes times;
    tcp::TcpState saved;                  ///< as offered: to resume from until the responder started, then queues dropped
    Clock::time_point saved_at;      ///< when: the TCP timestamp clock has run on since
    Bytes read_ahead;                ///< as offered, to resume with
    std::size_t offered_queue = 0;   ///< send-queue bytes handed over (the gateway's, not the responder's)
    bool started = false;            ///< a PROGRESS came: the responder left repair mode
    std::uint64_t acked = 0;         ///< the responder's latest PROGRESS
};

/** struct Fallback - the handoff did not happen; the caller serves the request. */
struct Fallback {
    UniqueFd socket; ///< the unchanged connection (invalid only if it could not be recovered)
    Error reason;
    std::optional<RefuseReason> refused; ///< the responder's reason, when it refused the OFFER
    bool distrusted = false;             ///< its READY named an address other than its own
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
    bool resumed = false; ///< restored from the gateway's own state: the responder sent nothing
};

/** struct FlowEnd - how an offloaded flow ended without being lost. */
struct FlowEnd {
    std::optional<ReturnedConnection> connection; ///< nullopt: the client closed it at the responder
    std::uint64_t responder_bytes = 0;            ///< bytes the client acknowledged from the responder
};

class Offloader {
public:
    /**
     * Offloader() - hand connections off through @flows.
     * @flows: the gateway data plane's flow table (outlives the offloader).
     * @gateway_mac: MAC of the public NIC, the source of redirected frames.
     */
    Offloader(FlowSteering& flows, Mac gateway_mac, OffloadTimeouts timeouts = {});

    /**
     * offload() - move @request's connection to the responder behind @link.
     *
     * Return: Offloaded (await its return next), Fallback (the socket is back
     * in normal operation; serve the request locally) or Lost.
     */
    boost::asio::awaitable<OffloadOutcome> offload(std::shared_ptr<ResponderLink> link, OffloadRequest request);

    /**
     * await_return() - follow @flow until the responder gives the connection back.
     *
     * Return: the restored (or resumed) connection, or none if the client
     * closed it at the responder; an error once the connection is lost, after
     * the client has been made to see a reset. The flow entry is removed in
     * every case.
     */
    boost::asio::awaitable<Result<FlowEnd>> await_return(Offloaded flow);

private:
    boost::asio::awaitable<Result<Message>> next_decision(Offloaded& flow, Clock::duration patience);
    boost::asio::awaitable<Result<FlowEnd>> take_back(Offloaded& flow);
    boost::asio::awaitable<Result<FlowEnd>> closed_at_responder(Offloaded& flow);
    Result<FlowEnd> resume(Offloaded& flow);
    FlowEnd ended(const Offloaded& flow, std::optional<ReturnedConnection> connection) const;
    boost::asio::awaitable<void> reset_client(Offloaded& flow);

    FlowSteering& flows_;
    Mac gateway_mac_;
    OffloadTimeouts timeouts_;
};

} // namespace xo::handoff
