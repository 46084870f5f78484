#include "common/tls/handshake.h"

#include <openssl/err.h>

#include <cstring>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/tls/key_schedule.h"

namespace xo::tls {
struct Handshake::Impl {
    std::shared_ptr<const ServerContext> context;
    SSL* ssl = nullptr;
    BIO* rbio = nullptr; ///< the client's bytes (owned by ssl)
    BIO* wbio = nullptr; ///< what OpenSSL sends (owned by ssl)
    bool done = false;
    bool failed = false;
    bool finished = false;
    SecretBytes client_secret; ///< TLS 1.3 CLIENT_TRAFFIC_SECRET_0
    SecretBytes server_secret; ///< TLS 1.3 SERVER_TRAFFIC_SECRET_0
    // Records after each side's last key change, -1 before it: TLS 1.2's
    // keys change at ChangeCipherSpec, TLS 1.3's application keys after
    // Finished. Counted from OpenSSL's record-header callbacks.
    long tx_after_ccs = -1, rx_after_ccs = -1, tx_after_finished = -1, rx_after_finished = -1;

    ~Impl()
    {
        if (ssl != nullptr) {
            // Keep the session resumable (SSL_free drops one not shut down).
            SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN);
            SSL_free(ssl);
        }
    }
};


namespace {

constexpr const char* tls12_ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";
constexpr const char* tls13_ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr std::string_view session_id_context = "xo-gateway";

std::string openssl_errors(std::string what)
{
    std::string out = std::move(what);
    const char* sep = ": ";
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += sep;
        out += buf;
        sep = "; ";
    }
    return out;
}

/** The Handshake::Impl of an SSL, for the key-log callback (which only gets the SSL). */
int impl_index()
{
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

/** parse_hex() - @hex as bytes into @out; false on an odd length or a non-hex digit. */
bool parse_hex(std::string_view hex, SecretBytes& out)
{
    if (hex.size() % 2 != 0)
        return false;
    out.clear();
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return true;
}

void key_logged(Handshake::Impl& impl, const char* line)
{
    // NSS key log: "<label> <client random hex> <secret hex>".
    std::string_view text(line);
    auto first = text.find(' ');
    auto second = first == std::string_view::npos ? first : text.find(' ', first + 1);
    if (second == std::string_view::npos)
        return;
    std::string_view label = text.substr(0, first);
    std::string_view secret = text.substr(second + 1);
    if (label == "CLIENT_TRAFFIC_SECRET_0" && !parse_hex(secret, impl.client_secret))
        impl.client_secret.clear();
    else if (label == "SERVER_TRAFFIC_SECRET_0" && !parse_hex(secret, impl.server_secret))
        impl.server_secret.clear();
}


void count_records(int write_p, int, int content_type, const void* buf, std::size_t len, SSL*, void* arg)
{
    auto& impl = *static_cast<Handshake::Impl*>(arg);
    long& after_ccs = write_p ? impl.tx_after_ccs : impl.rx_after_ccs;
    long& after_finished = write_p ? impl.tx_after_finished : impl.rx_after_finished;
    // TLS 1.2 keys change at each side's ChangeCipherSpec record (OpenSSL
    // reports a received CCS only by its record header), TLS 1.3
    // application keys after each side's Finished message.
    if (content_type == SSL3_RT_HEADER && len > 0) {
        if (*static_cast<const std::uint8_t*>(buf) == SSL3_RT_CHANGE_CIPHER_SPEC) {
            after_ccs = 0;
            return;
        }
        if (after_ccs >= 0)
            ++after_ccs;
        if (after_finished >= 0)
            ++after_finished;
    } else if (content_type == SSL3_RT_HANDSHAKE && len > 0 &&
               *static_cast<const std::uint8_t*>(buf) == SSL3_MT_FINISHED) {
        after_finished = 0;
    }
}

} // namespace

// ---- ServerContext ----

Result<std::shared_ptr<ServerContext>> ServerContext::load(const std::string& chain_file, const std::string& key_file)
{
    ERR_clear_error();
    SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
    if (raw == nullptr)
        return Error{openssl_errors("new TLS server context")};
    std::shared_ptr<ServerContext> context(new ServerContext(raw));
    SSL_CTX* ctx = context->ctx_;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1 ||
        SSL_CTX_set_ciphersuites(ctx, tls13_ciphersuites) != 1 ||
        SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>(session_id_context.data()),
                                       session_id_context.size()) != 1)
        return Error{openssl_errors("TLS server policy")};
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_max_early_data(ctx, 0);
    SSL_CTX_set_recv_max_early_data(ctx, 0);
    // Read-ahead would pull application records into OpenSSL's buffer, where
    // the record layer could not get them back.
    SSL_CTX_set_read_ahead(ctx, 0);
    SSL_CTX_set_keylog_callback(ctx, [](const SSL* ssl, const char* line) {
        auto* impl = static_cast<Handshake::Impl*>(SSL_get_ex_data(ssl, impl_index()));
        if (impl != nullptr)
            key_logged(*impl, line);
    });
    if (SSL_CTX_use_certificate_chain_file(ctx, chain_file.c_str()) != 1)
        return Error{openssl_errors("TLS certificate chain " + chain_file)};
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        return Error{openssl_errors("TLS private key " + key_file)};
    if (SSL_CTX_check_private_key(ctx) != 1)
        return Error{openssl_errors("TLS private key " + key_file + " does not match " + chain_file)};
    return context;
}

ServerContext::~ServerContext() { SSL_CTX_free(ctx_); }

// ---- Handshake ----

Handshake::Handshake(std::shared_ptr<const ServerContext> context) : impl_(std::make_unique<Impl>())
{
    impl_->context = std::move(context);
    impl_->ssl = SSL_new(impl_->context->native());
    impl_->rbio = BIO_new(BIO_s_mem());
    impl_->wbio = BIO_new(BIO_s_mem());
    if (impl_->ssl == nullptr || impl_->rbio == nullptr || impl_->wbio == nullptr) {
        BIO_free(impl_->rbio);
        BIO_free(impl_->wbio);
        impl_->rbio = impl_->wbio = nullptr;
        impl_->failed = true;
        return;
    }
    SSL_set_bio(impl_->ssl, impl_->rbio, impl_->wbio);
    SSL_set_accept_state(impl_->ssl);
    SSL_set_ex_data(impl_->ssl, impl_index(), impl_.get());
    SSL_set_msg_callback(impl_->ssl, count_records);
    SSL_set_msg_callback_arg(impl_->ssl, impl_.get());
}

Handshake::~Handshake() = default;


Result<void> Handshake::feed(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out)
{
    Impl& impl = *impl_;
    if (impl.failed || impl.finished)
        return Error{"TLS handshake: no longer running"};
    if (!in.empty() && BIO_write(impl.rbio, in.data(), static_cast<int>(in.size())) != static_cast<int>(in.size())) {
        impl.failed = true;
        return Error{"TLS handshake: buffer the client's bytes"};
    }
    if (impl.done)
        return {};
    ERR_clear_error();
    int r = SSL_do_handshake(impl.ssl);
    int error = r == 1 ? SSL_ERROR_NONE : SSL_get_error(impl.ssl, r);
    std::size_t pending = BIO_ctrl_pending(impl.wbio);
    if (pending > 0) {
        std::size_t at = out.size();
        out.resize(at + pending);
        int n = BIO_read(impl.wbio, out.data() + at, static_cast<int>(pending));
        out.resize(at + static_cast<std::size_t>(std::max(n, 0)));
    }
    if (r == 1) {
        impl.done = true;
        return {};
    }
    if (error == SSL_ERROR_WANT_READ)
        return {};
    impl.failed = true;
    return Error{openssl_errors("TLS handshake failed (SSL error " + std::to_string(error) + ")")};
}

bool Handshake::done() const { return impl_->done && !impl_->finished; }

Result<Session> Handshake::finish()
{
    Impl& impl = *impl_;
    if (!impl.done || impl.finished)
        return Error{"TLS handshake: not done, or already finished"};
    impl.finished = true;
    SSL* ssl = impl.ssl;
    const int version = SSL_version(ssl);
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    if (cipher == nullptr || (version != TLS1_2_VERSION && version != TLS1_3_VERSION))
        return Error{"TLS handshake: no cipher or an unexpected version"};
    const Version v = version == TLS1_3_VERSION ? Version::tls13 : Version::tls12;
    const std::uint16_t id = SSL_CIPHER_get_protocol_id(cipher);
    auto suite = find_suite(v, id);
    if (!suite)
        return Error{std::string("TLS suite ") + SSL_CIPHER_get_name(cipher) + " cannot be moved"};

    DirectionState tx, rx;
    tx.version = rx.version = v;
    tx.suite = rx.suite = id;
    SSL_SESSION* session = SSL_get_session(ssl);
    const std::uint8_t mfl = session != nullptr ? SSL_SESSION_get_max_fragment_length(session) : 0;
    if (mfl >= TLSEXT_max_fragment_length_512 && mfl <= TLSEXT_max_fragment_length_4096)
        tx.max_plaintext = rx.max_plaintext = static_cast<std::uint16_t>(512u << (mfl - 1));

    if (v == Version::tls13) {
        if (impl.client_secret.empty() || impl.server_secret.empty())
            return Error{"TLS 1.3 handshake: the key log did not give both traffic secrets"};
        if (impl.tx_after_finished < 0 || impl.rx_after_finished < 0)
            return Error{"TLS 1.3 handshake: no Finished seen in both directions"};
        auto tx_keys = tls13_traffic_keys(*suite, impl.server_secret);
        auto rx_keys = tls13_traffic_keys(*suite, impl.client_secret);
        if (!tx_keys || !rx_keys)
            return with_context("TLS 1.3 traffic keys", tx_keys ? rx_keys.error() : tx_keys.error());
        tx.key = std::move(tx_keys->key);
        tx.iv = std::move(tx_keys->iv);
        tx.secret = std::move(impl.server_secret);
        rx.key = std::move(rx_keys->key);
        rx.iv = std::move(rx_keys->iv);
        rx.secret = std::move(impl.client_secret);
        tx.seq = static_cast<std::uint64_t>(impl.tx_after_finished);
        rx.seq = static_cast<std::uint64_t>(impl.rx_after_finished);
    } else {
        if (session == nullptr || impl.tx_after_ccs < 0 || impl.rx_after_ccs < 0)
            return Error{"TLS 1.2 handshake: no session or no ChangeCipherSpec seen in both directions"};
        SecretBytes master(SSL_MAX_MASTER_KEY_LENGTH);
        master.resize(SSL_SESSION_get_master_key(session, master.data(), master.size()));
        SecretBytes client_random(SSL3_RANDOM_SIZE), server_random(SSL3_RANDOM_SIZE);
        if (master.empty() ||
            SSL_get_client_random(ssl, client_random.data(), client_random.size()) != SSL3_RANDOM_SIZE ||
            SSL_get_server_random(ssl, server_random.data(), server_random.size()) != SSL3_RANDOM_SIZE)
            return Error{"TLS 1.2 handshake: master secret or randoms unavailable"};
        auto block = tls12_key_block(*suite, master, client_random, server_random);
        if (!block)
            return with_context("TLS 1.2 key block", block.error());
        tx.key = std::move(block->server.key);
        tx.iv = std::move(block->server.iv);
        rx.key = std::move(block->client.key);
        rx.iv = std::move(block->client.iv);
        tx.seq = static_cast<std::uint64_t>(impl.tx_after_ccs);
        rx.seq = static_cast<std::uint64_t>(impl.rx_after_ccs);
    }

    // What OpenSSL did not read is the client's first application records.
    std::vector<std::uint8_t> leftover(BIO_ctrl_pending(impl.rbio));
    if (!leftover.empty()) {
        int n = BIO_read(impl.rbio, leftover.data(), static_cast<int>(leftover.size()));
        leftover.resize(static_cast<std::size_t>(std::max(n, 0)));
    }
    // The SSL never sees the connection again; its copies of the keys go with it.
    SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN);
    SSL_free(ssl);
    impl.ssl = nullptr;

    auto sealer = Sealer::make(std::move(tx));
    if (!sealer)
        return with_context("TLS send state", sealer.error());
    auto opener = Opener::make(std::move(rx));
    if (!opener)
        return with_context("TLS receive state", opener.error());
    return Session(std::move(*sealer), std::move(*opener), std::move(leftover));
}

} // namespace xo::tls
