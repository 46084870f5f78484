#include "common/handoff/control_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <map>
#include <mutex>

#include "common/log.h"

namespace xo::handoff {

namespace {

// TLS_AES_128_GCM_SHA256 in the TLS 1.3 cipher suite registry.
constexpr unsigned char suite_id[2] = {0x13, 0x01};
constexpr const char* suite_name = "TLS_AES_128_GCM_SHA256";

// The SSL slot that points at the connection's ChannelKeys. (Asio keeps its
// own data in the app data slot, so we need a slot of our own.)
int keys_slot()
{
    static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return slot;
}

ChannelKeys* keys_of(SSL* ssl)
{
    return static_cast<ChannelKeys*>(SSL_get_ex_data(ssl, keys_slot()));
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

// Client: offer the current key of the peer's keyring. @md is set when
// OpenSSL asks again after a HelloRetryRequest; the PSK only fits a SHA-256
// suite.
int use_session(SSL* ssl, const EVP_MD* md, const unsigned char** id, std::size_t* id_len, SSL_SESSION** sess)
{
    *sess = nullptr;
    ChannelKeys* keys = keys_of(ssl);
    if (!keys || !keys->ring || (md && EVP_MD_get_type(md) != NID_sha256))
        return 1;
    const PresharedKey& key = keys->ring->current();
    SSL_SESSION* s = psk_session(ssl, key);
    if (!s)
        return 0;
    *id = reinterpret_cast<const unsigned char*>(key.id().data());
    *id_len = key.id().size();
    *sess = s;
    keys->proved = key.id(); // proved only if the server accepts it: check_proved()
    return 1;
}

// Server: accept any key of the keyring; the binder check then proves the
// peer holds it. No session means no PSK, and without a certificate the
// handshake fails.
int find_session(SSL* ssl, const unsigned char* id, std::size_t id_len, SSL_SESSION** sess)
{
    *sess = nullptr;
    ChannelKeys* keys = keys_of(ssl);
    if (!keys || !keys->ring)
        return 1;
    const PresharedKey* key = keys->ring->find(std::string_view(reinterpret_cast<const char*>(id), id_len));
    if (!key) {
        log::warn("control channel: peer offered a key id that is not in the keyring");
        return 1;
    }
    *sess = psk_session(ssl, *key);
    if (*sess)
        keys->proved = key->id();
    return *sess ? 1 : 0;
}

// Any certificate a server shows instead of the key is refused.
int refuse_certificate(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/)
{
    return 0;
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

KeySource key_file_source(std::string path)
{
    auto file = std::make_shared<KeyringFile>(std::move(path));
    return [file](const boost::asio::ip::address&) { return file->keys(); };
}

KeySource key_dir_source(std::string dir)
{
    // One KeyringFile per peer, so an unchanged file is not read again.
    struct Files {
        std::mutex mutex;
        std::map<boost::asio::ip::address, std::shared_ptr<KeyringFile>> by_peer;
    };
    auto files = std::make_shared<Files>();
    return [files, dir = std::move(dir)](const boost::asio::ip::address& peer) {
        std::shared_ptr<KeyringFile> file;
        {
            std::lock_guard lock(files->mutex);
            auto& slot = files->by_peer[peer];
            if (!slot)
                slot = std::make_shared<KeyringFile>(dir + "/" + peer.to_string() + ".key");
            file = slot;
        }
        return file->keys();
    };
}

ControlTls::ControlTls(Role role, KeySource keys)
    : role_(role), keys_(std::move(keys)),
      ctx_(role == Role::client ? boost::asio::ssl::context::tls_client : boost::asio::ssl::context::tls_server)
{
}

Result<std::shared_ptr<ControlTls>> ControlTls::make(Role role, KeySource keys)
{
    std::shared_ptr<ControlTls> tls(new ControlTls(role, std::move(keys)));
    SSL_CTX* ctx = tls->ctx_.native_handle();
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) || !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
        return Error{openssl_error("control TLS: restrict to TLS 1.3")};
    if (!SSL_CTX_set_ciphersuites(ctx, suite_name))
        return Error{openssl_error(std::string("control TLS: select ") + suite_name)};
    // A server asks for no client certificate; a client refuses any server certificate.
    if (role == Role::client)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, refuse_certificate);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (!SSL_CTX_set_num_tickets(ctx, 0))
        return Error{openssl_error("control TLS: disable session tickets")};
    if (keys_slot() < 0)
        return Error{openssl_error("control TLS: allocate the keys slot")};
    if (role == Role::client)
        SSL_CTX_set_psk_use_session_callback(ctx, use_session);
    else
        SSL_CTX_set_psk_find_session_callback(ctx, find_session);
    return tls;
}

Result<void> ControlTls::bind(SSL* ssl, const boost::asio::ip::address& peer, ChannelKeys& keys) const
{
    auto ring = keys_(peer);
    if (!ring)
        return ring.error();
    keys.ring = std::move(*ring);
    keys.proved.clear();
    if (!SSL_set_ex_data(ssl, keys_slot(), &keys))
        return Error{openssl_error("control TLS: attach the keys to the connection")};
    return {};
}

Result<void> ControlTls::check_proved(SSL* ssl, const ChannelKeys& keys)
{
    if (!SSL_session_reused(ssl) || keys.proved.empty())
        return Error{"the peer completed the handshake without proving a pre-shared key"};
    return {};
}

} // namespace xo::handoff
