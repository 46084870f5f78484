// Theory of operation: a file descriptor (stdout, a pipe, a file) as a
// ByteSink for xo-read-object and tests. Writes block the calling thread:
// the tool has nothing else to do meanwhile, and tests read the other end
// from another thread. Never used by the daemon, whose thread serves many
// connections.
#pragma once

#include "osd_xo/byte_sink.h"

namespace xo::rsp {

class FdSink final : public ByteSink {
public:
    /** FdSink() - write to @fd, which the caller owns. */
    explicit FdSink(int fd) : fd_(fd) {}

    boost::asio::awaitable<Result<void>> write(std::span<const std::uint8_t> bytes) override;

    std::uint64_t written() const { return written_; }

private:
    int fd_;
    std::uint64_t written_ = 0;
};

} // namespace xo::rsp
