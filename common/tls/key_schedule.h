// Theory of operation: the key derivations the record layer needs after the
// handshake, done by OpenSSL 3's KDFs so no hash construction is written
// here. TLS 1.3 (RFC 8446 §7.1, §7.3): HKDF-Expand-Label through the
// "TLS13-KDF" in EXPAND_ONLY mode with the "tls13 " prefix — a traffic
// secret gives the AEAD key ("key") and IV ("iv"), and the next secret of a
// KeyUpdate ("traffic upd"). TLS 1.2 (RFC 5246 §6.3): the key block from the
// "TLS1-PRF" over the master secret with "key expansion" || server_random ||
// client_random, cut into client key, server key, client IV, server IV.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "common/tls/secret_bytes.h"
#include "common/tls/suite.h"

namespace xo::tls {

/** hkdf_expand_label() - TLS 1.3 HKDF-Expand-Label(@secret, @label, @context, @length) with @md. */
Result<SecretBytes> hkdf_expand_label(const EVP_MD* md, std::span<const std::uint8_t> secret, std::string_view label,
                                      std::span<const std::uint8_t> context, std::size_t length);

struct TrafficKeys {
    SecretBytes key;
    SecretBytes iv;
};

/** tls13_traffic_keys() - @suite's key and IV from a TLS 1.3 traffic secret. */
Result<TrafficKeys> tls13_traffic_keys(const Suite& suite, std::span<const std::uint8_t> secret);

/** tls13_next_secret() - the traffic secret after a KeyUpdate. */
Result<SecretBytes> tls13_next_secret(const Suite& suite, std::span<const std::uint8_t> secret);

struct Tls12KeyBlock {
    TrafficKeys client; ///< client_write_key, client_write_IV
    TrafficKeys server; ///< server_write_key, server_write_IV
};

/** tls12_key_block() - the TLS 1.2 AEAD key block from the master secret and the hello randoms. */
Result<Tls12KeyBlock> tls12_key_block(const Suite& suite, std::span<const std::uint8_t> master_secret,
                                      std::span<const std::uint8_t> client_random,
                                      std::span<const std::uint8_t> server_random);

} // namespace xo::tls
