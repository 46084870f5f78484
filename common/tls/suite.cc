#include "common/tls/suite.h"

#include <array>

namespace xo::tls {
namespace {

// TLS 1.2 has an ECDSA and an RSA variant of each AEAD; the record layer
// treats them alike (the certificate type only matters to the handshake).
constexpr std::array<Suite, 9> suites{{
    {0x1301, Version::tls13, "TLS_AES_128_GCM_SHA256", EVP_aes_128_gcm, 16, 12, false, EVP_sha256},
    {0x1302, Version::tls13, "TLS_AES_256_GCM_SHA384", EVP_aes_256_gcm, 32, 12, false, EVP_sha384},
    {0x1303, Version::tls13, "TLS_CHACHA20_POLY1305_SHA256", EVP_chacha20_poly1305, 32, 12, false, EVP_sha256},
    {0xc02b, Version::tls12, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", EVP_aes_128_gcm, 16, 4, true, EVP_sha256},
    {0xc02f, Version::tls12, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", EVP_aes_128_gcm, 16, 4, true, EVP_sha256},
    {0xc02c, Version::tls12, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", EVP_aes_256_gcm, 32, 4, true, EVP_sha384},
    {0xc030, Version::tls12, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", EVP_aes_256_gcm, 32, 4, true, EVP_sha384},
    {0xcca9, Version::tls12, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", EVP_chacha20_poly1305, 32, 12, false,
     EVP_sha256},
    {0xcca8, Version::tls12, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", EVP_chacha20_poly1305, 32, 12, false,
     EVP_sha256},
}};

} // namespace

std::optional<Suite> find_suite(Version version, std::uint16_t id)
{
    for (const Suite& s : suites)
        if (s.id == id && s.version == version)
            return s;
    return std::nullopt;
}

} // namespace xo::tls
