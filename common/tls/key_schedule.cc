#include "common/tls/key_schedule.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <string>

namespace xo::tls {
namespace {

struct KdfCtxFree {
    void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};

std::string openssl_error()
{
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0)
        return "no OpenSSL error queued";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

/** derive() - run KDF @name with @params into @length fresh bytes. */
Result<SecretBytes> derive(const char* name, const OSSL_PARAM* params, std::size_t length)
{
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, name, nullptr);
    if (kdf == nullptr)
        return Error{std::string("fetch KDF ") + name + ": " + openssl_error()};
    std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf));
    EVP_KDF_free(kdf);
    if (!ctx)
        return Error{std::string("new KDF context ") + name + ": " + openssl_error()};
    SecretBytes out(length);
    if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1)
        return Error{std::string("derive with ") + name + ": " + openssl_error()};
    return out;
}

OSSL_PARAM octets(const char* key, std::span<const std::uint8_t> value)
{
    // OpenSSL only reads these buffers (its API is not const-correct) and
    // refuses a null pointer even for zero bytes.
    static std::uint8_t none = 0;
    std::uint8_t* data = value.empty() ? &none : const_cast<std::uint8_t*>(value.data());
    return OSSL_PARAM_construct_octet_string(key, data, value.size());
}

} // namespace

Result<SecretBytes> hkdf_expand_label(const EVP_MD* md, std::span<const std::uint8_t> secret, std::string_view label,
                                      std::span<const std::uint8_t> context, std::size_t length)
{
    static constexpr std::string_view prefix = "tls13 ";
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    std::span<const std::uint8_t> prefix_bytes(reinterpret_cast<const std::uint8_t*>(prefix.data()), prefix.size());
    std::span<const std::uint8_t> label_bytes(reinterpret_cast<const std::uint8_t*>(label.data()), label.size());
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(md)), 0),
        octets(OSSL_KDF_PARAM_KEY, secret),
        octets(OSSL_KDF_PARAM_PREFIX, prefix_bytes),
        octets(OSSL_KDF_PARAM_LABEL, label_bytes),
        octets(OSSL_KDF_PARAM_DATA, context),
        OSSL_PARAM_construct_end(),
    };
    return derive("TLS13-KDF", params, length);
}

Result<TrafficKeys> tls13_traffic_keys(const Suite& suite, std::span<const std::uint8_t> secret)
{
    const EVP_MD* md = suite.hash();
    auto key = hkdf_expand_label(md, secret, "key", {}, suite.key_length);
    if (!key)
        return key.error();
    auto iv = hkdf_expand_label(md, secret, "iv", {}, suite.iv_length);
    if (!iv)
        return iv.error();
    return TrafficKeys{std::move(*key), std::move(*iv)};
}

Result<SecretBytes> tls13_next_secret(const Suite& suite, std::span<const std::uint8_t> secret)
{
    const EVP_MD* md = suite.hash();
    return hkdf_expand_label(md, secret, "traffic upd", {}, static_cast<std::size_t>(EVP_MD_get_size(md)));
}

Result<Tls12KeyBlock> tls12_key_block(const Suite& suite, std::span<const std::uint8_t> master_secret,
                                      std::span<const std::uint8_t> client_random,
                                      std::span<const std::uint8_t> server_random)
{
    static constexpr std::string_view label = "key expansion";
    std::span<const std::uint8_t> label_bytes(reinterpret_cast<const std::uint8_t*>(label.data()), label.size());
    // TLS1-PRF concatenates repeated seed parameters in order.
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(suite.hash())), 0),
        octets(OSSL_KDF_PARAM_SECRET, master_secret),
        octets(OSSL_KDF_PARAM_SEED, label_bytes),
        octets(OSSL_KDF_PARAM_SEED, server_random),
        octets(OSSL_KDF_PARAM_SEED, client_random),
        OSSL_PARAM_construct_end(),
    };
    std::size_t k = suite.key_length, n = suite.iv_length;
    auto block = derive("TLS1-PRF", params, 2 * k + 2 * n);
    if (!block)
        return block.error();
    const std::uint8_t* p = block->data();
    Tls12KeyBlock out;
    out.client.key.assign(p, p + k);
    out.server.key.assign(p + k, p + 2 * k);
    out.client.iv.assign(p + 2 * k, p + 2 * k + n);
    out.server.iv.assign(p + 2 * k + n, p + 2 * k + 2 * n);
    return out;
}

} // namespace xo::tls
