// Theory of operation: where the streamer's bytes go. The daemon writes to a
// client's TCP socket (socket_sink.h); xo-read-object and tests write to a
// file descriptor (fd_sink.h). A sink counts nothing and frames nothing: it
// moves the bytes it is given, all of them, or says why not.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <span>

#include "common/result.h"

namespace xo::rsp {

class ByteSink {
public:
    virtual ~ByteSink() = default;

    /** write() - send all of @bytes (which stay valid until the write finishes). */
    virtual boost::asio::awaitable<Result<void>> write(std::span<const std::uint8_t> bytes) = 0;
};

} // namespace xo::rsp
