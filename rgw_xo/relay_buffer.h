// Theory of operation: the buffer a connection's bodies move through
// (--relay-buffer-bytes, body_pump.h) exists only while an exchange needs
// it. It is allocated, uninitialised, the first time a body moves and
// released when the connection goes idle, so idle and slow-header
// connections — thousands of them on a busy front door — cost no relay
// buffer, and the gateway's memory follows the requests in flight rather
// than the connections open. The allocator keeps recently freed blocks, so
// a kept-alive connection's next exchange reuses memory without faulting.
// It reads as a contiguous range (data(), size(), begin(), end()) so that
// code taking a std::span<char> of it needs no change; reading it is what
// allocates it.
#pragma once

#include <cstddef>
#include <memory>

namespace xo::gw {

class RelayBuffer {
public:
    explicit RelayBuffer(std::size_t size) : size_(size) {}

    /** data() - the buffer, allocated now if it was not. */
    char* data()
    {
        if (!bytes_)
            bytes_ = std::make_unique_for_overwrite<char[]>(size_);
        return bytes_.get();
    }
    std::size_t size() const { return size_; }
    char* begin() { return data(); }
    char* end() { return data() + size_; }

    /** release() - give the memory back; the next data() allocates again. */
    void release() { bytes_.reset(); }

    /** allocated() - whether the buffer currently holds memory. */
    bool allocated() const { return bytes_ != nullptr; }

private:
    std::size_t size_;
    std::unique_ptr<char[]> bytes_;
};

} // namespace xo::gw
