// Theory of operation: the responder's decision about one serve plan, and
// what it keeps for serving it. prepare_object() is the admission's work,
// done before the gateway commits the connection: read the head (one RADOS
// operation, head_read.h), vet it (vet.h), and keep the manifest's extents
// and the range's first bytes if the head held them. stream_object() is the
// application's: send exactly plan.length bytes from plan.first — those
// head bytes, then the rest of the range read from RADOS (stream.h). What an
// admitted plan keeps does not grow with the object: the manifest's extents
// are made while streaming, only those the range touches (range_slicer.h).
//
// Only the head extent's own bytes count as already read (head_prefix.h); a
// head holding fewer bytes than its extent is refused here rather than
// discovered later.
//
// xo-responder and xo-read-object run exactly this code; only the sink and
// the way refusals are reported differ.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <rados/librados.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <variant>

#include "osd_xo/byte_sink.h"
#include "osd_xo/chunk_reader.h"
#include "common/handoff/handoff_messages.h"
#include "common/handoff/serve_plan.h"

namespace xo::rsp {

struct ReadSettings {
    /// Bytes per RADOS read. 1 MiB: a quarter stripe, so (depth + 1) MiB of
    /// buffers per connection and a quick first read, while each OSD op
    /// still moves enough to make its fixed cost negligible.
    std::uint64_t read_bytes = 1 << 20;
    std::size_t pipeline_depth = 4; ///< reads in flight ahead of the socket (4 MiB: one stripe)
    /// The gateway waits ~2 s for READY and restoring the socket takes
    /// some of it: the head read gets less.
    std::chrono::milliseconds head_timeout{1200};
};

/** struct ServableObject - an admitted plan and what the admission learned. */
struct ServableObject {
    handoff::ServePlan plan;
    librados::IoCtx io;              ///< the head's pool; used by the streamer's thread only
    rgw::ExtentCursor extents;        ///< the object's, made on demand
    Bytes head;                      ///< the range's first bytes, read with the xattrs (may be empty)
};

/** struct Refusal - why a plan is not served, as REFUSE says it. */
struct Refusal {
    handoff::RefuseReason reason = handoff::RefuseReason::unspecified;
    std::string text;
};

using Prepared = std::variant<std::shared_ptr<ServableObject>, Refusal>;

/**
 * prepare_object() - read and vet @plan's head object.
 * @rados: a connected cluster handle.
 *
 * Return: the object to stream, or a Refusal: unsupported for objects
 * radosgw would serve differently (or that are gone), unspecified for
 * cluster errors and timeouts.
 */
boost::asio::awaitable<Prepared> prepare_object(boost::asio::any_io_executor executor, librados::Rados& rados,
                                                handoff::ServePlan plan, ReadSettings settings);

/**
 * stream_object() - write @object's plan range to @sink.
 *
 * Return: success once exactly plan.length bytes were written, else the error.
 */
boost::asio::awaitable<Result<void>> stream_object(boost::asio::any_io_executor executor,
                                                   std::shared_ptr<ServableObject> object, ByteSink& sink,
                                                   ReadSettings settings);

} // namespace xo::rsp
