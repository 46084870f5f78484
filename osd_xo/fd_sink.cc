#include "osd_xo/fd_sink.h"

#include <unistd.h>

#include <cerrno>

namespace xo::rsp {

boost::asio::awaitable<Result<void>> FdSink::write(std::span<const std::uint8_t> bytes)
{
    while (!bytes.empty()) {
        ssize_t n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            co_return Error::from_errno("write");
        written_ += static_cast<std::uint64_t>(n);
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    co_return Result<void>();
}

} // namespace xo::rsp
