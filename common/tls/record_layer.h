// Theory of operation: TLS records after the handshake, one direction at a
// time, with OpenSSL's EVP AEADs. A Sealer writes records (the gateway's and
// a responder's sending side), an Opener reads them (only the gateway reads).
// Each keeps one EVP_CIPHER_CTX with the key set once and sets only the
// nonce per record:
//
//   TLS 1.3       nonce = iv XOR seq; AAD = the 5-byte header (type 23);
//                 plaintext = content || inner type (no padding sent;
//                 padding received is stripped, all-zero → unexpected_message)
//   TLS 1.2 GCM   nonce = salt || explicit 8 bytes (= seq, sent before the
//                 ciphertext); AAD = seq || type || 0303 || plaintext length
//   TLS 1.2 ChaCha nonce = iv XOR seq; same 13-byte AAD, no explicit nonce
//
// A record never carries more than the state's max_plaintext bytes (the
// client's max_fragment_length). An incoming record larger than 2^14+256
// bytes of ciphertext is record_overflow; one that does not authenticate is
// bad_record_mac and leaves the sequence number where it was.
// Key limits (RFC 8446 §5.5): AES-GCM may seal about 2^24.5 records per key;
// near_key_limit() says when a TLS 1.3 sender must roll its key (KeyUpdate)
// before sealing more — the gateway does so before a handoff, so a responder
// never needs to — and a TLS 1.2 connection past it can only be closed.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/tls/direction_state.h"

namespace xo::tls {

enum class ContentType : std::uint8_t { change_cipher_spec = 20, alert = 21, handshake = 22, application_data = 23 };

/** Alert descriptions the record layer sends or understands (RFC 8446 §6). */
enum class Alert : std::uint8_t {
    close_notify = 0,
    unexpected_message = 10,
    bad_record_mac = 20,
    record_overflow = 22,
    handshake_failure = 40,
    illegal_parameter = 47,
    decode_error = 50,
    internal_error = 80,
    no_renegotiation = 100,
};

inline constexpr std::size_t record_header_size = 5;
inline constexpr std::size_t max_record_plaintext = 16384;
inline constexpr std::size_t max_record_ciphertext = max_record_plaintext + 256;

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

class Sealer {
public:
    /** make() - a sealer continuing @state (its seq is the next record's). */
    static Result<Sealer> make(DirectionState state);

    /** seal() - append @plaintext as application-data records (≤ max_plaintext each) to @out. */
    Result<void> seal(std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out);

    /**
     * seal_alert() - append one alert record (close_notify and TLS 1.2's
     * no_renegotiation, which RFC 5246 defines as always a warning, are
     * warnings; every other alert is fatal).
     */
    Result<void> seal_alert(Alert alert, std::vector<std::uint8_t>& out);

    /**
     * seal_key_update() - TLS 1.3: append a KeyUpdate record, then switch to
     * the next traffic secret. @request_peer: ask the peer to update too.
     */
    Result<void> seal_key_update(bool request_peer, std::vector<std::uint8_t>& out);

    /** sealed_size() - ciphertext bytes seal() appends for @plaintext_bytes. */
    std::size_t sealed_size(std::size_t plaintext_bytes) const;

    /** near_key_limit() - the key must be rolled (1.3) or the connection closed (1.2) before more records. */
    bool near_key_limit() const;

    /**
     * set_roll_threshold() - records under one key after which
     * near_key_limit() holds (default: 2^23 for AES-GCM, well below RFC 8446's
     * 2^24.5; 2^62 for ChaCha20-Poly1305). seal() itself refuses past the
     * hard limit (2^24 records per AES-GCM key; ChaCha: before the seq wraps).
     */
    void set_roll_threshold(std::uint64_t records) { roll_after_ = records; }
    std::uint64_t roll_threshold() const { return roll_after_; }

    const DirectionState& state() const { return state_; }

private:
    Sealer(DirectionState state, Suite suite, CipherCtx ctx);
    Result<void> seal_record(ContentType type, std::span<const std::uint8_t> content, std::vector<std::uint8_t>& out);
    DirectionState state_;
    Suite suite_;
    CipherCtx ctx_;
    std::uint64_t roll_after_;
};

/** What Opener::open() found at the front of the ciphertext. */
struct Opened {
    enum class Kind {
        need_more,    ///< no complete record yet (consumed == 0)
        data,         ///< application data appended to the plaintext
        key_update,   ///< the peer rolled its key (the opener followed); requested: answer with ours
        close_notify, ///< the peer closed its sending side
        alert,        ///< the peer sent a fatal alert (alert = which)
        failed,       ///< a fatal error on our side: send alert, then close
    } kind = Kind::need_more;
    std::size_t consumed = 0;  ///< ciphertext bytes used (0 unless a whole record was processed)
    bool requested = false;    ///< key_update: the peer asked for ours
    Alert alert = Alert::internal_error;
};

class Opener {
public:
    /** make() - an opener continuing @state. */
    static Result<Opener> make(DirectionState state);

    /**
     * open() - process the first record of @ciphertext.
     * Application data is appended to @plaintext. Post-handshake handshake
     * messages other than KeyUpdate (and NewSessionTicket, which a client
     * never sends) are unexpected_message; so is a ChangeCipherSpec; a TLS
     * 1.2 ClientHello (renegotiation) is no_renegotiation.
     */
    Opened open(std::span<const std::uint8_t> ciphertext, std::vector<std::uint8_t>& plaintext);

    const DirectionState& state() const { return state_; }

private:
    Opener(DirectionState state, Suite suite, CipherCtx ctx);
    Opened handle_handshake(std::span<const std::uint8_t> message, Opened result);
    DirectionState state_;
    Suite suite_;
    CipherCtx ctx_;
};

} // namespace xo::tls
