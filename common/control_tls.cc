#include "control_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>

#include "log.h"

namespace xo {

namespace {

// TLS_AES_128_GCM_SHA256 in the TLS 1.3 cipher suite registry.
constexpr unsigned char suite_id[2] = {0x13, 0x01};
constexpr const char* suite_name = "TLS_AES_128_GCM_SHA256";

// The SSL_CTX slot that points back at its ControlTls. (Asio keeps its own
// data in the context's app data slot, so we need a slot of our own.)
int tls_slot()
{
    static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return slot;
}

const PresharedKey& key_of(SSL* ssl)
{
    return static_cast<const ControlTls*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_slot()))->key();
}

// A resumption-style session that carries the external PSK.
SSL_SESSION* psk_session(SSL* ssl, const PresharedKey& key)
{
    const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, suite_id);
    if (!cipher)
        return nullptr;
    SSL_SESSION* s = SSL_SESSION_new();
    if (!s)
        return nullptr;
    auto secret = key.secret();
    if (!SSL_SESSION_set1_master_key(s, secret.data(), secret.size()) || !SSL_SESSION_set_cipher(s, cipher) ||
        !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
        SSL_SESSION_free(s);
        return nullptr;
    }
    return s;
}

// Client: offer our PSK. @md is set when OpenSSL asks again after a
// HelloRetryRequest; the PSK only fits a SHA-256 suite.
int use_session(SSL* ssl, const EVP_MD* md, const unsigned char** id, std::size_t* id_len, SSL_SESSION** sess)
{
    const PresharedKey& key = key_of(ssl);
    *sess = nullptr;
    if (md && EVP_MD_get_type(md) != NID_sha256)
        return 1;
    SSL_SESSION* s = psk_session(ssl, key);
    if (!s)
        return 0;
    *id = reinterpret_cast<const unsigned char*>(key.id().data());
    *id_len = key.id().size();
    *sess = s;
    return 1;
}

// Server: accept only our own key id; the binder check then proves the peer
// holds the key. No session means no PSK, and without a certificate the
// handshake fails.
int find_session(SSL* ssl, const unsigned char* id, std::size_t id_len, SSL_SESSION** sess)
{
    const PresharedKey& key = key_of(ssl);
    *sess = nullptr;
    if (id_len != key.id().size() || std::memcmp(id, key.id().data(), id_len) != 0) {
        log::warn("control channel: peer offered unknown key id");
        return 1;
    }
    *sess = psk_session(ssl, key);
    return *sess ? 1 : 0;
}

std::string openssl_error(const std::string& what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown OpenSSL error";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return what + ": " + buf;
}

} // namespace

ControlTls::ControlTls(PresharedKey key, Role role)
    : key_(std::move(key)),
      ctx_(role == Role::client ? boost::asio::ssl::context::tls_client : boost::asio::ssl::context::tls_server)
{
}

Result<std::shared_ptr<ControlTls>> ControlTls::make(PresharedKey key, Role role)
{
    std::shared_ptr<ControlTls> tls(new ControlTls(std::move(key), role));
    SSL_CTX* ctx = tls->ctx_.native_handle();
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) || !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
        return Error{openssl_error("control TLS: restrict to TLS 1.3")};
    if (!SSL_CTX_set_ciphersuites(ctx, suite_name))
        return Error{openssl_error(std::string("control TLS: select ") + suite_name)};
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (!SSL_CTX_set_num_tickets(ctx, 0))
        return Error{openssl_error("control TLS: disable session tickets")};
    if (tls_slot() < 0 || !SSL_CTX_set_ex_data(ctx, tls_slot(), tls.get()))
        return Error{openssl_error("control TLS: attach the key to the context")};
    if (role == Role::client)
        SSL_CTX_set_psk_use_session_callback(ctx, use_session);
    else
        SSL_CTX_set_psk_find_session_callback(ctx, find_session);
    return tls;
}

} // namespace xo
