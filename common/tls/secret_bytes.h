// Theory of operation: key material of TLS connections (traffic secrets,
// AEAD keys and IVs) lives in SecretBytes, a byte vector whose memory is
// wiped (OPENSSL_cleanse) whenever it is released — on destruction, on
// reallocation, on clear-and-shrink — so a key that moved to a responder and
// back leaves no copies in freed heap memory for a core dump to show.
#pragma once

#include <openssl/crypto.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace xo::tls {

template <typename T>
struct WipingAllocator {
    using value_type = T;
    WipingAllocator() = default;
    template <typename U>
    WipingAllocator(const WipingAllocator<U>&) noexcept
    {
    }
    T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept
    {
        OPENSSL_cleanse(p, n * sizeof(T));
        std::allocator<T>().deallocate(p, n);
    }
    template <typename U>
    bool operator==(const WipingAllocator<U>&) const noexcept
    {
        return true;
    }
};

using SecretBytes = std::vector<std::uint8_t, WipingAllocator<std::uint8_t>>;

/** WipeOnExit - wipes a plain byte vector that held key material (a message payload) when the scope ends. */
class WipeOnExit {
public:
    explicit WipeOnExit(std::vector<std::uint8_t>& bytes) : bytes_(bytes) {}
    ~WipeOnExit() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
    WipeOnExit(const WipeOnExit&) = delete;
    WipeOnExit& operator=(const WipeOnExit&) = delete;

private:
    std::vector<std::uint8_t>& bytes_;
};

} // namespace xo::tls
