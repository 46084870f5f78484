// Theory of operation: the six AEAD suites XO-Ceph moves between hosts — TLS
// 1.3's AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305, and TLS 1.2's ECDHE
// suites with the same AEADs — and what the record layer needs of each: the
// EVP AEAD, key and IV lengths, whether TLS 1.2 sends an explicit nonce, and
// the hash of the TLS 1.3 key schedule. Anything else is not a Suite, and a
// connection that negotiated it cannot be moved (relayed, with a reason).
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace xo::tls {

enum class Version : std::uint16_t { tls12 = 0x0303, tls13 = 0x0304 };

struct Suite {
    std::uint16_t id;          ///< IANA value, e.g. 0x1301
    Version version;
    std::string_view name;     ///< IANA name, for logs and metrics
    const EVP_CIPHER* (*aead)();
    std::size_t key_length;
    std::size_t iv_length;     ///< stored IV: 12, or 4 (TLS 1.2 GCM salt)
    bool explicit_nonce;       ///< TLS 1.2 GCM: 8 nonce bytes before the ciphertext
    const EVP_MD* (*hash)();   ///< the suite's PRF / HKDF hash
};

/** find_suite() - the Suite for @id negotiated under @version, if it is one of the six. */
std::optional<Suite> find_suite(Version version, std::uint16_t id);

} // namespace xo::tls
