// Theory of operation: the HTTPS listener's certificate chain and key. They
// are read from PEM files at start (a bad file stops the gateway with the
// file's name and OpenSSL's reason) and again on SIGHUP, so an operator
// renews a certificate without dropping a connection: a handshake takes the
// context current when it starts and keeps it; a reload that fails leaves
// the previous context serving and says why.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "common/tls/handshake.h"

namespace xo::gw {

class TlsCertificates {
public:
    /** load() - the chain in @chain_file and the key in @key_file (PEM). */
    static Result<std::unique_ptr<TlsCertificates>> load(std::string chain_file, std::string key_file);

    /** current() - the context for a new handshake (any thread). */
    std::shared_ptr<const tls::ServerContext> current() const;

    /** reload() - read the files again; on failure the current context stays. */
    Result<void> reload();

private:
    TlsCertificates(std::string chain_file, std::string key_file, std::shared_ptr<const tls::ServerContext> context)
        : chain_file_(std::move(chain_file)), key_file_(std::move(key_file)), context_(std::move(context))
    {
    }

    const std::string chain_file_;
    const std::string key_file_;
    mutable std::mutex mutex_;
    std::shared_ptr<const tls::ServerContext> context_;
};

} // namespace xo::gw
