// Theory of operation: the messages gateway and responder exchange to move a
// client connection, and their byte layout on the control channel.
//
// A frame is an 8-byte header and a payload:
//
//   magic u16 = 0x584F ("XO") | version u8 = 1 | type u8 | payload length u32
//
// Every payload starts with the 64-bit flow id the message belongs to; the
// gateway picks flow ids, unique per control channel, so several handoffs can
// be in flight on one channel and every reply finds its request. Byte strings
// are a 32-bit length and the bytes (wire.h). Each field and each message type
// has its own upper bound, checked before anything is allocated: a header
// announcing more payload than its type can carry is refused from the header
// alone, so a hostile or broken peer never makes us buffer more than the
// largest legitimate message. Decoding is strict: unknown magic, version or
// type, a truncated field, an oversized field or bytes left over after the
// last field are all errors, and decode(encode(m)) == m for every valid m.
//
// The conversation (gateway = G, responder = R):
//   G→R OFFER           the connection's TCP state, bytes already read, plan, ticket
//   R→G READY | REFUSE  R restored the socket (still in repair mode) / it will not
//   G→R GO | ABORT      G redirected the flow and closed its socket / gave up
//   R→G PROGRESS …      every second while R serves: bytes the client acknowledged
//   R→G RETURN_PREPARE  R wants to give the connection back (next request)
//   G→R READY           G blocked the flow and is ready to take it
//   R→G RETURN          the connection's TCP state and the next request's bytes
//   G→R DONE            G restored it; R may forget the flow
// A half-closed socket cannot be saved, so a client that closed while R held
// its connection is not returned: R sends DONE instead of RETURN_PREPARE, G
// keeps the redirect, R sends its FIN, and once the client has acknowledged
// it R sends a second DONE and G removes the flow entry.
// ABORT may be sent by either side at any time to end a flow's handoff. An
// ABORT from R marked resumable says R never left repair mode (GO came too
// late, or not at all): nothing reached the client from R, so the state G
// saved is still exact and G may take the connection back from it.
// PROGRESS is both R's heartbeat and the transfer's progress: G gives up on a
// flow whose acknowledged bytes stop growing (a stalled responder or client),
// never on a transfer that merely takes long.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/tcp/tcp_state.h"

namespace xo::handoff {

inline constexpr std::uint16_t frame_magic = 0x584F;
inline constexpr std::uint8_t protocol_version = 2; // 2: PROGRESS, resumable ABORT
inline constexpr std::size_t header_size = 8;

// Field limits. The TCP state carries both socket queues, so it is the big one;
// its limit is the TCP state module's, whose save refuses a connection that
// would not fit (tcp_state.h): such a connection is relayed, not offloaded.
inline constexpr std::size_t max_tcp_state = tcp::kMaxEncodedTcpState;
inline constexpr std::size_t max_read_ahead = 1u << 20;
inline constexpr std::size_t max_app_payload = 1u << 20;
inline constexpr std::size_t max_ticket = 1024;
inline constexpr std::size_t max_reason_text = 1024;
inline constexpr std::size_t max_address = 16;

enum class MessageType : std::uint8_t {
    offer = 1,
    ready = 2,
    go = 3,
    refuse = 4,
    abort = 5,
    return_prepare = 6,
    return_conn = 7,
    done = 8,
    progress = 9,
};

/** Why a responder turned an OFFER down; the gateway relays in every case. */
enum class RefuseReason : std::uint16_t {
    unspecified = 0,
    busy = 1,            ///< at its flow limit
    bad_ticket = 2,      ///< the ticket did not verify
    unsupported = 3,     ///< it cannot serve this object exactly as radosgw would
    restore_failed = 4,  ///< the socket could not be restored
    duplicate_flow = 5,  ///< the flow id is already in use
    bad_address = 6,     ///< the TCP state names a client or public address the responder may not use
    replayed = 7,        ///< the ticket was used before (tickets are single use)
};

using Bytes = std::vector<std::uint8_t>;

struct Offer {
    std::uint64_t flow_id = 0;
    Bytes tcp_state;   ///< opaque serialized socket (tcp::TcpState encoder)
    Bytes read_ahead;  ///< client bytes the gateway read but did not consume
    Bytes app_payload; ///< opaque: serve plan, TLS record state
    Bytes ticket;      ///< authorizes exactly this flow's response
    bool operator==(const Offer&) const = default;
};

struct Ready {
    std::uint64_t flow_id = 0;
    Bytes local_address;         ///< 4 or 16 bytes, network order; empty if not applicable
    std::uint16_t local_port = 0; ///< the restored socket's own port; 0 if not applicable
    bool operator==(const Ready&) const = default;
};

struct Go {
    std::uint64_t flow_id = 0;
    bool operator==(const Go&) const = default;
};

struct Refuse {
    std::uint64_t flow_id = 0;
    RefuseReason reason = RefuseReason::unspecified;
    std::string text;
    bool operator==(const Refuse&) const = default;
};

struct Abort {
    std::uint64_t flow_id = 0;
    std::string text;
    bool resumable = false; ///< from R: it never left repair mode; G's saved state is exact
    bool operator==(const Abort&) const = default;
};

struct Progress {
    std::uint64_t flow_id = 0;
    std::uint64_t acked = 0; ///< bytes the client acknowledged since R restored the socket
    bool operator==(const Progress&) const = default;
};

struct ReturnPrepare {
    std::uint64_t flow_id = 0;
    bool operator==(const ReturnPrepare&) const = default;
};

struct Return {
    std::uint64_t flow_id = 0;
    Bytes tcp_state;
    Bytes read_ahead;  ///< bytes of the client's next request the responder read
    Bytes app_payload; ///< opaque: TLS record state
    bool operator==(const Return&) const = default;
};

struct Done {
    std::uint64_t flow_id = 0;
    bool operator==(const Done&) const = default;
};

using Message = std::variant<Offer, Ready, Go, Refuse, Abort, ReturnPrepare, Return, Done, Progress>;

struct FrameHeader {
    MessageType type;
    std::uint32_t payload_length;
};

/** flow_id() - the flow @m belongs to. */
std::uint64_t flow_id(const Message& m);

/** type_of() - the wire type of @m. */
MessageType type_of(const Message& m);

/** type_name() - "OFFER", "READY", ... for logs; "unknown" for anything else. */
std::string_view type_name(MessageType type);

/** max_payload() - the largest payload a frame of @type may announce. */
std::size_t max_payload(MessageType type);

/**
 * encode() - @m as one complete frame, header included.
 *
 * Return: the frame, or an error when a field exceeds its limit (the peer
 * would refuse it, so it is never sent).
 */
Result<Bytes> encode(const Message& m);

/**
 * decode_header() - check and parse the first header_size bytes of a frame.
 * @in: at least header_size bytes.
 *
 * Return: the type and payload length, or an error for a short input, wrong
 * magic, unsupported version, unknown type or a length over max_payload().
 */
Result<FrameHeader> decode_header(std::span<const std::uint8_t> in);

/**
 * decode_payload() - parse the payload of a frame whose header said @type.
 *
 * Return: the message, or an error for a truncated or oversized field, an
 * invalid value, or bytes left over after the last field.
 */
Result<Message> decode_payload(MessageType type, std::span<const std::uint8_t> payload);

/** decode() - parse exactly one complete frame (header and payload). */
Result<Message> decode(std::span<const std::uint8_t> frame);

} // namespace xo::handoff
