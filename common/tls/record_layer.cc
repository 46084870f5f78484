#include "common/tls/record_layer.h"

#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "common/tls/key_schedule.h"

namespace xo::tls {
namespace {

constexpr std::size_t tag_size = 16;
constexpr std::size_t explicit_nonce_size = 8;
constexpr std::size_t nonce_size = 12;
constexpr std::uint8_t handshake_key_update = 24;
constexpr std::uint8_t handshake_client_hello = 1;
constexpr std::uint8_t alert_level_warning = 1;
constexpr std::uint8_t alert_level_fatal = 2;

bool is_gcm(const Suite& suite) { return EVP_CIPHER_get_mode(suite.aead()) == EVP_CIPH_GCM_MODE; }

/** Records one AES-GCM key may protect: RFC 8446 §5.5 allows 2^24.5; we stop at 2^24. */
std::uint64_t hard_limit(const Suite& suite) { return is_gcm(suite) ? std::uint64_t{1} << 24 : ~std::uint64_t{0}; }
std::uint64_t default_roll_threshold(const Suite& suite)
{
    return is_gcm(suite) ? std::uint64_t{1} << 23 : std::uint64_t{1} << 62;
}

void put_be(std::uint8_t* p, std::uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; --i, v >>= 8)
        p[i] = static_cast<std::uint8_t>(v);
}

std::string openssl_error(const char* what)
{
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    char buf[256] = "no OpenSSL error queued";
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof buf);
    return std::string(what) + ": " + buf;
}

/** The per-record nonce: iv XOR seq, or TLS 1.2 GCM's salt || seq (the explicit part we send). */
std::array<std::uint8_t, nonce_size> make_nonce(const DirectionState& state, const Suite& suite)
{
    std::array<std::uint8_t, nonce_size> nonce{};
    if (suite.explicit_nonce) {
        std::memcpy(nonce.data(), state.iv.data(), 4);
        put_be(nonce.data() + 4, state.seq, 8);
        return nonce;
    }
    std::memcpy(nonce.data(), state.iv.data(), nonce_size);
    std::array<std::uint8_t, 8> seq{};
    put_be(seq.data(), state.seq, 8);
    for (std::size_t i = 0; i < 8; ++i)
        nonce[4 + i] ^= seq[i];
    return nonce;
}

/** TLS 1.2's additional data: seq || type || 0303 || plaintext length. */
std::array<std::uint8_t, 13> tls12_aad(std::uint64_t seq, std::uint8_t type, std::size_t length)
{
    std::array<std::uint8_t, 13> aad{};
    put_be(aad.data(), seq, 8);
    aad[8] = type;
    aad[9] = 3;
    aad[10] = 3;
    put_be(aad.data() + 11, length, 2);
    return aad;
}

/** check_state() - the state fits its suite (the Sealer/Opener rely on these lengths). */
Result<Suite> check_state(const DirectionState& state)
{
    auto suite = find_suite(state.version, state.suite);
    if (!suite)
        return Error{"TLS suite " + std::to_string(state.suite) + " is not one the record layer handles"};
    std::size_t secret_length =
        state.version == Version::tls13 ? static_cast<std::size_t>(EVP_MD_get_size(suite->hash())) : 0;
    if (state.key.size() != suite->key_length || state.iv.size() != suite->iv_length ||
        state.secret.size() != secret_length)
        return Error{std::string("TLS state does not fit ") + std::string(suite->name) + ": key, iv or secret length"};
    if (state.max_plaintext < 512 || state.max_plaintext > max_record_plaintext)
        return Error{"TLS record size cap " + std::to_string(state.max_plaintext) + " outside 512..16384"};
    return *suite;
}

Result<CipherCtx> make_ctx(const Suite& suite, const SecretBytes& key, int encrypt)
{
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx)
        return Error{openssl_error("new cipher context")};
    if (EVP_CipherInit_ex(ctx.get(), suite.aead(), nullptr, key.data(), nullptr, encrypt) != 1)
        return Error{openssl_error("set AEAD key")};
    return ctx;
}

/** roll() - TLS 1.3 KeyUpdate: @state moves to the next traffic secret, its key and IV, seq 0. */
Result<void> roll(DirectionState& state, const Suite& suite, EVP_CIPHER_CTX* ctx, int encrypt)
{
    auto next = tls13_next_secret(suite, state.secret);
    if (!next)
        return next.error();
    auto keys = tls13_traffic_keys(suite, *next);
    if (!keys)
        return keys.error();
    if (EVP_CipherInit_ex(ctx, nullptr, nullptr, keys->key.data(), nullptr, encrypt) != 1)
        return Error{openssl_error("set the updated AEAD key")};
    state.secret = std::move(*next);
    state.key = std::move(keys->key);
    state.iv = std::move(keys->iv);
    state.seq = 0;
    return {};
}

std::size_t record_overhead(const Suite& suite)
{
    return record_header_size + tag_size + (suite.version == Version::tls13 ? 1 : 0) +
           (suite.explicit_nonce ? explicit_nonce_size : 0);
}

} // namespace

// ---- Sealer ----

Sealer::Sealer(DirectionState state, Suite suite, CipherCtx ctx)
    : state_(std::move(state)), suite_(suite), ctx_(std::move(ctx)), roll_after_(default_roll_threshold(suite))
{
}

Result<Sealer> Sealer::make(DirectionState state)
{
    auto suite = check_state(state);
    if (!suite)
        return suite.error();
    auto ctx = make_ctx(*suite, state.key, 1);
    if (!ctx)
        return ctx.error();
    return Sealer(std::move(state), *suite, std::move(*ctx));
}

Result<void> Sealer::seal_record(ContentType type, std::span<const std::uint8_t> content,
                                 std::vector<std::uint8_t>& out)
{
    if (state_.seq >= hard_limit(suite_))
        return Error{"TLS send key used for " + std::to_string(state_.seq) + " records: its limit"};
    const bool tls13 = state_.version == Version::tls13;
    const auto inner_type = static_cast<std::uint8_t>(type);
    const std::size_t explicit_bytes = suite_.explicit_nonce ? explicit_nonce_size : 0;
    const std::size_t body = explicit_bytes + content.size() + (tls13 ? 1 : 0) + tag_size;

    const std::size_t start = out.size();
    out.resize(start + record_header_size + body);
    std::uint8_t* header = out.data() + start;
    header[0] = tls13 ? static_cast<std::uint8_t>(ContentType::application_data) : inner_type;
    header[1] = 3;
    header[2] = 3;
    put_be(header + 3, body, 2);
    auto nonce = make_nonce(state_, suite_);
    std::uint8_t* dst = header + record_header_size;
    if (explicit_bytes != 0) {
        std::memcpy(dst, nonce.data() + 4, explicit_bytes);
        dst += explicit_bytes;
    }
    auto aad = tls12_aad(state_.seq, inner_type, content.size());
    EVP_CIPHER_CTX* ctx = ctx_.get();
    int len = 0;
    bool ok = EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
              (tls13 ? EVP_EncryptUpdate(ctx, nullptr, &len, header, record_header_size)
                     : EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), aad.size())) == 1;
    std::size_t written = 0;
    if (ok && !content.empty()) {
        ok = EVP_EncryptUpdate(ctx, dst, &len, content.data(), static_cast<int>(content.size())) == 1;
        written += static_cast<std::size_t>(len);
    }
    if (ok && tls13) {
        ok = EVP_EncryptUpdate(ctx, dst + written, &len, &inner_type, 1) == 1;
        written += static_cast<std::size_t>(len);
    }
    if (ok) {
        ok = EVP_EncryptFinal_ex(ctx, dst + written, &len) == 1;
        written += static_cast<std::size_t>(len);
    }
    if (ok)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, tag_size, dst + written) == 1;
    if (!ok) {
        out.resize(start);
        return Error{openssl_error("seal a TLS record")};
    }
    ++state_.seq;
    return {};
}

Result<void> Sealer::seal(std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out)
{
    const std::size_t cap = state_.max_plaintext;
    const std::uint64_t records = (plaintext.size() + cap - 1) / cap;
    if (records > hard_limit(suite_) - std::min(state_.seq, hard_limit(suite_)))
        return Error{"TLS send key: " + std::to_string(records) + " more records would pass its limit"};
    out.reserve(out.size() + sealed_size(plaintext.size()));
    for (std::size_t at = 0; at < plaintext.size(); at += cap) {
        auto r = seal_record(ContentType::application_data, plaintext.subspan(at, std::min(cap, plaintext.size() - at)),
                             out);
        if (!r)
            return r;
    }
    return {};
}

Result<void> Sealer::seal_alert(Alert alert, std::vector<std::uint8_t>& out)
{
    bool warning =
        alert == Alert::close_notify || (alert == Alert::no_renegotiation && state_.version == Version::tls12);
    const std::array<std::uint8_t, 2> body{warning ? alert_level_warning : alert_level_fatal,
                                           static_cast<std::uint8_t>(alert)};
    return seal_record(ContentType::alert, body, out);
}

Result<void> Sealer::seal_key_update(bool request_peer, std::vector<std::uint8_t>& out)
{
    if (state_.version != Version::tls13)
        return Error{"KeyUpdate needs TLS 1.3"};
    // Derive the next key first so that a failure leaves no KeyUpdate on the wire.
    DirectionState next = state_;
    CipherCtx next_ctx(EVP_CIPHER_CTX_new());
    if (!next_ctx || EVP_CIPHER_CTX_copy(next_ctx.get(), ctx_.get()) != 1)
        return Error{openssl_error("copy the cipher context")};
    auto rolled = roll(next, suite_, next_ctx.get(), 1);
    if (!rolled)
        return rolled;
    const std::uint8_t request = request_peer ? 1 : 0;
    const std::array<std::uint8_t, 5> message{handshake_key_update, 0, 0, 1, request};
    auto sealed = seal_record(ContentType::handshake, message, out);
    if (!sealed)
        return sealed;
    state_ = std::move(next);
    ctx_ = std::move(next_ctx);
    return {};
}

std::size_t Sealer::sealed_size(std::size_t plaintext_bytes) const
{
    const std::size_t cap = state_.max_plaintext;
    const std::size_t records = (plaintext_bytes + cap - 1) / cap;
    return plaintext_bytes + records * record_overhead(suite_);
}

bool Sealer::near_key_limit() const { return state_.seq >= std::min(roll_after_, hard_limit(suite_)); }

// ---- Opener ----

Opener::Opener(DirectionState state, Suite suite, CipherCtx ctx)
    : state_(std::move(state)), suite_(suite), ctx_(std::move(ctx))
{
}

Result<Opener> Opener::make(DirectionState state)
{
    auto suite = check_state(state);
    if (!suite)
        return suite.error();
    auto ctx = make_ctx(*suite, state.key, 0);
    if (!ctx)
        return ctx.error();
    return Opener(std::move(state), *suite, std::move(*ctx));
}

namespace {
Opened fail(Opened r, Alert alert)
{
    r.kind = Opened::Kind::failed;
    r.alert = alert;
    return r;
}
} // namespace

Opened Opener::open(std::span<const std::uint8_t> ciphertext, std::vector<std::uint8_t>& plaintext)
{
    Opened r;
    if (ciphertext.size() < record_header_size)
        return r;
    const std::uint8_t type = ciphertext[0];
    const std::size_t length = (std::size_t{ciphertext[3]} << 8) | ciphertext[4];
    if (length > max_record_ciphertext)
        return fail(r, Alert::record_overflow);
    if (ciphertext.size() < record_header_size + length)
        return r;
    r.consumed = record_header_size + length;
    const bool tls13 = state_.version == Version::tls13;
    const auto header = ciphertext.first(record_header_size);
    auto body = ciphertext.subspan(record_header_size, length);

    // Records outside the AEAD: after the handshake a ChangeCipherSpec (RFC
    // 8446 §5) and, in TLS 1.3, any outer type but application_data are
    // unexpected; unknown types are too.
    if (tls13 ? type != static_cast<std::uint8_t>(ContentType::application_data)
              : (type != static_cast<std::uint8_t>(ContentType::alert) &&
                 type != static_cast<std::uint8_t>(ContentType::handshake) &&
                 type != static_cast<std::uint8_t>(ContentType::application_data)))
        return fail(r, Alert::unexpected_message);
    const std::size_t explicit_bytes = suite_.explicit_nonce ? explicit_nonce_size : 0;
    if (length < explicit_bytes + tag_size)
        return fail(r, Alert::bad_record_mac);
    const std::size_t ct_length = length - explicit_bytes - tag_size;
    // TLS 1.3's inner plaintext (content, type, padding) may be 2^14 + 1 bytes.
    if (ct_length > max_record_plaintext + (tls13 ? 1 : 0))
        return fail(r, Alert::record_overflow);

    auto nonce = make_nonce(state_, suite_);
    if (explicit_bytes != 0)
        std::memcpy(nonce.data() + 4, body.data(), explicit_bytes);
    const auto ct = body.subspan(explicit_bytes, ct_length);
    std::array<std::uint8_t, tag_size> tag{};
    std::memcpy(tag.data(), body.data() + explicit_bytes + ct_length, tag_size);
    auto aad = tls12_aad(state_.seq, type, ct_length);

    // Decrypt in place at the end of @plaintext; cut back unless it authenticates.
    const std::size_t old = plaintext.size();
    plaintext.resize(old + ct_length);
    EVP_CIPHER_CTX* ctx = ctx_.get();
    int len = 0;
    bool ok = EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
              (tls13 ? EVP_DecryptUpdate(ctx, nullptr, &len, header.data(), record_header_size)
                     : EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), aad.size())) == 1;
    std::size_t written = 0;
    if (ok && ct_length != 0) {
        ok = EVP_DecryptUpdate(ctx, plaintext.data() + old, &len, ct.data(), static_cast<int>(ct_length)) == 1;
        written = static_cast<std::size_t>(len);
    }
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag_size, tag.data()) == 1 &&
         EVP_DecryptFinal_ex(ctx, plaintext.data() + old + written, &len) == 1;
    ERR_clear_error();
    if (!ok) {
        OPENSSL_cleanse(plaintext.data() + old, ct_length);
        plaintext.resize(old);
        return fail(r, Alert::bad_record_mac);
    }
    ++state_.seq;

    std::uint8_t inner_type = type;
    std::size_t content_length = ct_length;
    if (tls13) {
        // TLSInnerPlaintext: content || type || zeros. Strip the padding.
        auto begin = plaintext.begin() + static_cast<std::ptrdiff_t>(old);
        auto last = std::find_if(plaintext.rbegin(), plaintext.rend() - static_cast<std::ptrdiff_t>(old),
                                 [](std::uint8_t b) { return b != 0; });
        if (last == plaintext.rend() - static_cast<std::ptrdiff_t>(old)) {
            plaintext.resize(old);
            return fail(r, Alert::unexpected_message);
        }
        inner_type = *last;
        content_length = static_cast<std::size_t>((last.base() - 1) - begin);
    }
    if (content_length > std::min<std::size_t>(max_record_plaintext, state_.max_plaintext)) {
        plaintext.resize(old);
        return fail(r, Alert::record_overflow);
    }
    plaintext.resize(old + content_length);

    if (inner_type == static_cast<std::uint8_t>(ContentType::application_data)) {
        r.kind = Opened::Kind::data;
        return r;
    }
    // Control content is not the caller's data: take it out of @plaintext.
    std::vector<std::uint8_t> control(plaintext.begin() + static_cast<std::ptrdiff_t>(old), plaintext.end());
    plaintext.resize(old);
    if (inner_type == static_cast<std::uint8_t>(ContentType::alert)) {
        // Every alert but close_notify ends the connection: TLS 1.3 has no
        // other warnings, and a TLS 1.2 client has no reason to send one.
        if (control.size() != 2)
            return fail(r, Alert::decode_error);
        if (control[1] == static_cast<std::uint8_t>(Alert::close_notify)) {
            r.kind = Opened::Kind::close_notify;
            return r;
        }
        r.kind = Opened::Kind::alert;
        r.alert = static_cast<Alert>(control[1]);
        return r;
    }
    if (inner_type == static_cast<std::uint8_t>(ContentType::handshake))
        return handle_handshake(control, r);
    return fail(r, Alert::unexpected_message);
}

Opened Opener::handle_handshake(std::span<const std::uint8_t> message, Opened r)
{
    // One whole message per record: a KeyUpdate must end its record (RFC
    // 8446 §5.1: messages may not span a key change), and nothing else is
    // accepted after the handshake, so fragments are never needed.
    if (message.size() < 4)
        return fail(r, Alert::unexpected_message);
    const std::size_t length = (std::size_t{message[1]} << 16) | (std::size_t{message[2]} << 8) | message[3];
    const std::uint8_t type = message[0];
    if (state_.version == Version::tls12)
        return fail(r, type == handshake_client_hello ? Alert::no_renegotiation : Alert::unexpected_message);
    if (type != handshake_key_update || length + 4 != message.size())
        return fail(r, Alert::unexpected_message);
    if (length != 1)
        return fail(r, Alert::decode_error);
    if (message[4] > 1)
        return fail(r, Alert::illegal_parameter);
    if (!roll(state_, suite_, ctx_.get(), 0))
        return fail(r, Alert::internal_error);
    r.kind = Opened::Kind::key_update;
    r.requested = message[4] == 1;
    return r;
}

} // namespace xo::tls
