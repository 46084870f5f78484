#include "rgw_xo/tls_certificates.h"

namespace xo::gw {

Result<std::unique_ptr<TlsCertificates>> TlsCertificates::load(std::string chain_file, std::string key_file)
{
    auto context = tls::ServerContext::load(chain_file, key_file);
    if (!context)
        return context.error();
    return std::unique_ptr<TlsCertificates>(
        new TlsCertificates(std::move(chain_file), std::move(key_file), std::move(*context)));
}

std::shared_ptr<const tls::ServerContext> TlsCertificates::current() const
{
    std::lock_guard lock(mutex_);
    return context_;
}

Result<void> TlsCertificates::reload()
{
    auto context = tls::ServerContext::load(chain_file_, key_file_);
    if (!context)
        return context.error();
    std::lock_guard lock(mutex_);
    context_ = std::move(*context);
    return Result<void>{};
}

} // namespace xo::gw
