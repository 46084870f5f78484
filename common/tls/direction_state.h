// Theory of operation: after the handshake a TLS connection is, per
// direction, a suite, a key, an IV (or TLS 1.2 GCM's 4-byte salt), the
// sequence number of the next record and — for TLS 1.3 — the traffic secret
// from which KeyUpdate derives the next key. That is a DirectionState. The
// gateway keeps both directions; only the sending one (tx) travels to a
// responder inside an OFFER and comes back, advanced, with the connection.
// Its wire form (encode/decode) is versioned and checked field by field:
// a decoded state is one the Sealer/Opener can use, or an error.
#pragma once

#include <cstdint>
#include <span>

#include "common/result.h"
#include "common/tls/secret_bytes.h"
#include "common/tls/suite.h"

namespace xo::tls {

struct DirectionState {
    Version version = Version::tls13;
    std::uint16_t suite = 0;               ///< IANA cipher suite id, one of suite.h's six
    SecretBytes key;                       ///< AEAD key: 16 or 32 bytes
    SecretBytes iv;                        ///< 12 bytes, or the 4-byte salt of TLS 1.2 AES-GCM
    SecretBytes secret;                    ///< TLS 1.3 traffic secret (hash length); empty for 1.2
    std::uint64_t seq = 0;                 ///< sequence number of the next record
    std::uint16_t max_plaintext = 16384;   ///< record size cap (max_fragment_length), 512..16384
};

/** encode() - @state's wire form (holds the key: send it only over the authenticated channel). */
SecretBytes encode(const DirectionState& state);

/** decode_direction_state() - parse and check a state encode() wrote. */
Result<DirectionState> decode_direction_state(std::span<const std::uint8_t> bytes);

} // namespace xo::tls
