// Theory of operation: OpenSSL does the TLS handshake and nothing else. A
// ServerContext is an SSL_CTX with XO-Ceph's policy — TLS 1.2 and 1.3, AEAD
// suites only (TLS 1.2: ECDHE with AES-GCM or ChaCha20-Poly1305; TLS 1.3:
// its three defaults), no renegotiation, no 0-RTT, no post-handshake auth,
// session tickets for resumption — and the certificate chain and key from
// PEM files (load() again to reload them; a context in use stays valid).
//
// A Handshake drives one server SSL over two memory BIOs: feed() takes the
// client's bytes and gives back what to send, until done(). OpenSSL is run
// without read-ahead, so it stops right after the client's Finished and
// whatever it did not read is already application ciphertext (clients
// often send their first request with Finished). Then finish() takes the
// secrets out through public API — TLS 1.3 traffic secrets from the key-log
// callback, TLS 1.2 key block from the master secret and randoms — and
// builds a Session. The switch point is counted, never assumed: the records
// OpenSSL wrote after the keys changed (TLS 1.3 NewSessionTickets: 2 by
// default, 1 after resumption; TLS 1.2: the Finished) give the send
// sequence number, and the records it read give the receive one. The SSL is
// then freed; it never sees the connection again.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/tls/session.h"

namespace xo::tls {

class ServerContext {
public:
    /** load() - a context with the policy above and @chain_file / @key_file (PEM). */
    static Result<std::shared_ptr<ServerContext>> load(const std::string& chain_file, const std::string& key_file);

    ~ServerContext();
    ServerContext(const ServerContext&) = delete;
    ServerContext& operator=(const ServerContext&) = delete;

    SSL_CTX* native() const { return ctx_; }

private:
    explicit ServerContext(SSL_CTX* ctx) : ctx_(ctx) {}
    SSL_CTX* ctx_;
};

class Handshake {
public:
    explicit Handshake(std::shared_ptr<const ServerContext> context);
    ~Handshake();
    Handshake(const Handshake&) = delete;
    Handshake& operator=(const Handshake&) = delete;

    /**
     * feed() - @in: bytes from the client (all are taken). Appends what must
     * be sent to @out — also when it fails, where @out may hold OpenSSL's
     * alert. Return: an error when the handshake failed.
     */
    Result<void> feed(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out);

    bool done() const;

    /**
     * finish() - once done(): the connection's Session, holding any
     * application ciphertext that arrived with the client's Finished. An
     * error when the negotiated suite is not one of the six (the caller
     * must then close: the SSL is gone).
     */
    Result<Session> finish();

    struct Impl; ///< opaque; named here for OpenSSL's C callbacks

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace xo::tls
