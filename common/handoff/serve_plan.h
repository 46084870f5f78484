// Theory of operation: what the gateway asks a responder to send, and the
// ticket that proves the gateway asked it.
//
// A ServePlan travels as the OFFER's app payload. It names the head RADOS
// object of the S3 object radosgw just authorized (the responder finds the
// tails through the head's manifest), the ETag radosgw reported (so the
// responder serves the very object radosgw described, or refuses), and the
// byte range of the S3 object still owed to the client: the gateway has sent
// radosgw's headers and the bytes before `first`; the responder sends exactly
// `length` bytes from `first` and nothing else — no HTTP framing. On an HTTPS
// connection the plan also carries the TLS send state (the key: the payload
// travels only over the authenticated control channel, and both hosts wipe
// it after use): the responder seals those bytes into records of its own
// and returns the advanced state in its RETURN payload, which is otherwise
// empty when it sent the whole range.
//
// The ticket binds a plan to one client flow (client and public endpoints:
// the 4-tuple), the object's identity (pool, namespace, head oid — which
// carries the bucket marker and key — and locator), the byte range, the ETag
// and an expiry with an HMAC-SHA256 under a ticket key of its own (the
// --ticket-key file, apart from the control channel keys: a channel key
// authorizes a channel, the ticket key what may be served on it). The ticket names
// its key id, so a responder holding the old and the new key during a
// rotation checks it with the right one; the gateway signs with the file's
// current (first) key. The control channel is already authenticated, so the
// ticket is what limits a responder to what the gateway authorized even if a
// flow id or payload were mixed up or replayed: a responder serves only a
// plan whose ticket verifies for the very connection it restores, before the
// expiry, once (osd_xo/ticket_replay.h).
//
// Clocks. The expiry is wall-clock time (ms since the epoch) because it is
// made on the gateway and checked on another host; the hosts' clocks differ
// by their NTP error, so a ticket is accepted up to ticket_clock_skew past
// its expiry, and refused if it expires more than ticket_lifetime +
// ticket_clock_skew ahead (a gateway clock far ahead, or a ticket minted to
// live long). The lifetime must exceed the skew by the time an OFFER takes
// to arrive and be checked (well under the 2 s READY deadline): 10 s and 2 s.
// Everything that stays on one host — the replay cache's ageing, every
// deadline — uses the monotonic clock.
//
// The responder answers with the connection (RETURN) and an app payload that
// is empty (HTTPS: the advanced send state) when it sent the whole range, or
// the unserved marker when it sent
// none of it (say, the first tail read failed): the client has then seen
// nothing but the gateway's own bytes, so the gateway relays the range itself
// instead of losing the connection.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/handoff/psk.h"
#include "common/result.h"

namespace xo::handoff {

struct ServePlan {
    std::string pool;    ///< RADOS pool of the head object
    std::string nspace;  ///< RADOS namespace of the head object
    std::string oid;     ///< head object name
    std::string locator; ///< head object locator ("" for none)
    std::string etag;    ///< as radosgw reported it, without quotes
    std::uint64_t object_size = 0; ///< the whole S3 object
    std::uint64_t first = 0;       ///< first byte (S3 object offset) to send
    std::uint64_t length = 0;      ///< bytes to send, > 0, first + length <= object_size
    std::vector<std::uint8_t> tls_tx; ///< HTTPS: the connection's send state (tls::DirectionState); empty: plain
    bool operator==(const ServePlan&) const = default;
};

/** encode_plan() - @plan as an OFFER app payload. */
std::vector<std::uint8_t> encode_plan(const ServePlan& plan);

/**
 * decode_plan() - parse and check an app payload.
 *
 * Return: the plan, or an error for a malformed payload, an unknown version,
 * an empty oid or pool, or a range that is empty or outside the object.
 */
Result<ServePlan> decode_plan(std::span<const std::uint8_t> payload);

/** unserved_payload() - the RETURN app payload saying no byte of the plan was sent. */
std::vector<std::uint8_t> unserved_payload();

/** is_unserved() - whether a RETURN's @payload is unserved_payload(). */
bool is_unserved(std::span<const std::uint8_t> payload);

/** struct FlowTuple - the client connection a ticket is for, as text endpoints "ip:port". */
struct FlowTuple {
    std::string client;
    std::string gateway; ///< the public address and port the client connected to
};

/// How long a ticket is valid after the gateway made it.
inline constexpr std::chrono::seconds ticket_lifetime{10};
/// The wall-clock difference between gateway and responder hosts a ticket tolerates.
inline constexpr std::chrono::seconds ticket_clock_skew{2};
static_assert(ticket_lifetime > 2 * ticket_clock_skew, "a ticket must outlive the clock skew");
/// The longest a ticket can verify on one host, from the first time it is seen there.
inline constexpr std::chrono::seconds ticket_max_validity = ticket_lifetime + 2 * ticket_clock_skew;

/** TicketMac - what identifies one ticket (for the responder's replay cache). */
using TicketMac = std::array<std::uint8_t, 32>;

/**
 * make_ticket() - a ticket for serving @payload (an encoded plan) on @flow until @expires.
 * @key: the ticket key to sign with (the ticket key file's current key); its id travels in the ticket.
 */
std::vector<std::uint8_t> make_ticket(const PresharedKey& key, const FlowTuple& flow,
                                      std::span<const std::uint8_t> payload,
                                      std::chrono::system_clock::time_point expires);

/**
 * verify_ticket() - whether @ticket authorizes @payload on @flow at @now.
 * @keys: the ticket keys accepted; the ticket names which one signed it.
 *
 * Return: the ticket's MAC, or an error saying why not (malformed, unknown
 * key, wrong MAC, expired beyond the skew, expiring too far ahead).
 */
Result<TicketMac> verify_ticket(const Keyring& keys, std::span<const std::uint8_t> ticket, const FlowTuple& flow,
                                std::span<const std::uint8_t> payload,
                                std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

} // namespace xo::handoff
