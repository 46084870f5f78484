// Theory of operation: everything the admission needs from RADOS comes from
// the head object in one librados operation — its xattrs (ETag, manifest,
// compression/encryption/storage-class markers), its size, and the first
// bytes of the range if they live in the head. One operation is one OSD
// round trip (the head is on this host's OSD) and one consistent snapshot:
// the bytes read belong to the xattrs vetted, even if the object is being
// overwritten. The admission must answer the gateway quickly, so the read
// has a deadline of its own, shorter than librados' operation timeout; a late
// answer is dropped (rados_aio.h keeps its buffers alive).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <rados/librados.hpp>

#include <chrono>
#include <cstdint>

#include "osd_xo/chunk_reader.h"
#include "common/result.h"
#include "osd_xo/vet.h"

namespace xo::rsp {

/** struct HeadSnapshot - what one read of the head object returned. */
struct HeadSnapshot {
    XattrMap xattrs;
    std::uint64_t size = 0; ///< of the head RADOS object
    Bytes data;             ///< read at the requested RADOS offset; shorter at the object's end
};

/**
 * read_head() - xattrs, size and @length bytes at @offset of head object @oid.
 * @io:      opened on the head's pool; namespace and locator are set here.
 * @timeout: the answer's deadline.
 *
 * Return: the snapshot, or an Error whose code is the errno (ENOENT: no such
 * object, ETIMEDOUT: no answer within @timeout).
 */
boost::asio::awaitable<Result<HeadSnapshot>> read_head(boost::asio::any_io_executor executor, librados::IoCtx io,
                                                       rgw::HeadObject head, std::uint64_t offset,
                                                       std::uint64_t length,
                                                       std::chrono::steady_clock::duration timeout);

} // namespace xo::rsp
