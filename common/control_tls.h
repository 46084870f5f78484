// Theory of operation: the TLS settings of the control channel. A responder that accepts a forged OFFER would serve objects to
// anyone and make its host emit packets for connections it does not own, so
// the channel is TLS 1.3 with an external pre-shared key (PresharedKey, psk.h)
// and nothing else: cipher suite TLS_AES_128_GCM_SHA256, psk_dhe_ke (the PSK
// authenticates, an ECDHE exchange gives forward secrecy), no certificates,
// no session tickets. Certificates were rejected because gateway and
// responders are one trust domain run by one operator: a PSK needs no CA, no
// expiry handling and no name checks, and a wrong key fails in the first
// round trip (bad PSK binder). A server without a matching PSK has no other
// way to authenticate, so the handshake fails and accept_channel() returns
// the error; one bad client does not affect the server's other channels.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "psk.h"
#include "result.h"

namespace xo {

/** The TLS settings of one side of the control channel: a context and its key. */
class ControlTls {
public:
    enum class Role { client, server };

    /**
     * make() - a TLS 1.3 PSK-only context for @role authenticated by @key.
     *
     * Return: the context, or an error if OpenSSL rejects the settings.
     */
    static Result<std::shared_ptr<ControlTls>> make(PresharedKey key, Role role);

    boost::asio::ssl::context& context() { return ctx_; }
    const PresharedKey& key() const { return key_; }

private:
    ControlTls(PresharedKey key, Role role);
    PresharedKey key_;
    boost::asio::ssl::context ctx_;
};

} // namespace xo
