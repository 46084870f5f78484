// Theory of operation: the TLS settings of the control channel. A responder
// that accepts a forged OFFER would serve objects to anyone and make its host
// emit packets for connections it does not own, and a gateway that talks to a
// false responder hands it a client's TCP state and the bytes the client
// sent. So the channel is TLS 1.3 with an external pre-shared key and nothing
// else: cipher suite TLS_AES_128_GCM_SHA256, psk_dhe_ke (the PSK
// authenticates, an ECDHE exchange gives forward secrecy), no session
// tickets, and no certificate is ever accepted — a client verifies any
// certificate it is shown with a callback that says no, and after every
// handshake both sides check that the PSK was used (SSL_session_reused), so a
// server that offers a certificate instead of the key gets no channel.
// Certificates were rejected because gateway and responders are one trust
// domain run by one operator: a PSK needs no CA, no expiry handling and no
// name checks, and a wrong key fails in the first round trip (bad binder).
//
// Keys are per responder: each responder has its own channel keyring, and a
// gateway holds one key file per responder, named by the responder's control
// address (<dir>/<ip>.key), so a compromised OSD host holds no key that
// opens a channel to any other responder. A KeySource says which keyring
// serves a channel with a given peer; it is asked at every handshake, so a
// changed key file takes effect at the next one (psk.h: rotation). A server
// accepts every key of its keyring and remembers which one a channel proved
// (ControlChannel::key_id), so a channel whose key was withdrawn is known.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "common/handoff/psk.h"
#include "common/result.h"

namespace xo::handoff {

/** The keyring for a channel with a peer address. */
using KeySource = std::function<Result<std::shared_ptr<const Keyring>>(const boost::asio::ip::address& peer)>;

/** key_file_source() - every peer is checked against one key file (a responder's channel keyring). */
KeySource key_file_source(std::string path);

/** key_dir_source() - a peer at address A uses "@dir/A.key" (a gateway's keys, one file per responder). */
KeySource key_dir_source(std::string dir);

/** One connection's keys: the keyring its handshake uses, and the id of the key it proved. */
struct ChannelKeys {
    std::shared_ptr<const Keyring> ring;
    std::string proved; ///< empty until a handshake proved a key of ring
};

/** The TLS settings of one side of the control channel: a context and where its keys come from. */
class ControlTls {
public:
    enum class Role { client, server };

    /**
     * make() - a TLS 1.3 PSK-only context for @role, its keys from @keys.
     *
     * Return: the context, or an error if OpenSSL rejects the settings.
     */
    static Result<std::shared_ptr<ControlTls>> make(Role role, KeySource keys);

    boost::asio::ssl::context& context() { return ctx_; }
    Role role() const { return role_; }

    /** keys_for() - the keyring a channel with @peer uses now. */
    Result<std::shared_ptr<const Keyring>> keys_for(const boost::asio::ip::address& peer) const
    {
        return keys_(peer);
    }

    /**
     * bind() - give the connection @ssl the keyring of @peer for its handshake.
     * @keys: filled here; must outlive the handshake.
     */
    Result<void> bind(SSL* ssl, const boost::asio::ip::address& peer, ChannelKeys& keys) const;

    /**
     * check_proved() - after a handshake of @ssl: whether the peer proved a key of @keys.
     *
     * Return: success, or an error when the handshake completed without the
     * PSK (a certificate, or no authentication at all).
     */
    static Result<void> check_proved(SSL* ssl, const ChannelKeys& keys);

private:
    ControlTls(Role role, KeySource keys);
    Role role_;
    KeySource keys_;
    boost::asio::ssl::context ctx_;
};

} // namespace xo::handoff
