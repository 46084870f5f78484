#include "common/tls/direction_state.h"

#include <openssl/evp.h>

#include <string>

#include "common/wire.h"

namespace xo::tls {
namespace {

// Wire form, version 1: u8 format, u16 version, u16 suite, u8-length key,
// u8-length iv, u8-length secret, u64 seq, u16 max_plaintext. Written
// straight into SecretBytes (WireWriter's plain vector would leave copies
// of the key behind when it grows).
constexpr std::uint8_t format_v1 = 1;
constexpr std::uint16_t min_plaintext_cap = 512;

void put_be(SecretBytes& out, std::uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; --i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_bytes(SecretBytes& out, const SecretBytes& b)
{
    out.push_back(static_cast<std::uint8_t>(b.size()));
    out.insert(out.end(), b.begin(), b.end());
}

Result<SecretBytes> get_bytes(WireReader& in, std::size_t expected, const char* what)
{
    auto n = in.u8();
    if (!n)
        return with_context(what, n.error());
    if (*n != expected)
        return Error{std::string(what) + ": length " + std::to_string(*n) + ", the suite needs " +
                     std::to_string(expected)};
    auto b = in.raw(*n);
    if (!b)
        return with_context(what, b.error());
    return SecretBytes(b->begin(), b->end());
}

} // namespace

SecretBytes encode(const DirectionState& state)
{
    SecretBytes out;
    out.reserve(1 + 2 + 2 + 3 + state.key.size() + state.iv.size() + state.secret.size() + 8 + 2);
    out.push_back(format_v1);
    put_be(out, static_cast<std::uint16_t>(state.version), 2);
    put_be(out, state.suite, 2);
    put_bytes(out, state.key);
    put_bytes(out, state.iv);
    put_bytes(out, state.secret);
    put_be(out, state.seq, 8);
    put_be(out, state.max_plaintext, 2);
    return out;
}

Result<DirectionState> decode_direction_state(std::span<const std::uint8_t> bytes)
{
    WireReader in(bytes);
    auto format = in.u8();
    if (!format)
        return with_context("TLS state format", format.error());
    if (*format != format_v1)
        return Error{"TLS state: unknown format " + std::to_string(*format)};
    auto version = in.u16();
    auto id = in.u16();
    if (!version || !id)
        return Error{"TLS state: truncated before the suite"};
    if (*version != static_cast<std::uint16_t>(Version::tls12) &&
        *version != static_cast<std::uint16_t>(Version::tls13))
        return Error{"TLS state: unknown version " + std::to_string(*version)};
    DirectionState state;
    state.version = static_cast<Version>(*version);
    state.suite = *id;
    auto suite = find_suite(state.version, state.suite);
    if (!suite)
        return Error{"TLS state: suite " + std::to_string(*id) + " is not one the record layer moves"};
    auto key = get_bytes(in, suite->key_length, "TLS state key");
    if (!key)
        return key.error();
    auto iv = get_bytes(in, suite->iv_length, "TLS state iv");
    if (!iv)
        return iv.error();
    std::size_t secret_length =
        state.version == Version::tls13 ? static_cast<std::size_t>(EVP_MD_get_size(suite->hash())) : 0;
    auto secret = get_bytes(in, secret_length, "TLS state secret");
    if (!secret)
        return secret.error();
    auto seq = in.u64();
    auto cap = in.u16();
    if (!seq || !cap)
        return Error{"TLS state: truncated after the keys"};
    if (*cap < min_plaintext_cap || *cap > 16384)
        return Error{"TLS state: record size cap " + std::to_string(*cap) + " outside 512..16384"};
    if (!in.at_end())
        return Error{"TLS state: " + std::to_string(in.remaining()) + " bytes after the end"};
    state.key = std::move(*key);
    state.iv = std::move(*iv);
    state.secret = std::move(*secret);
    state.seq = *seq;
    state.max_plaintext = *cap;
    return state;
}

} // namespace xo::tls
