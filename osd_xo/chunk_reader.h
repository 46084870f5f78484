// Theory of operation: the streamer (stream.h) reads an object as pieces
// (range_slicer.h) through a ChunkReader. start() begins one read at once and
// hands back the slot its bytes will arrive in, so the streamer can keep
// several reads in flight and collect them in its own order, whatever order
// they complete in. RadosChunkReader issues librados aio reads; tests
// substitute readers that complete slots themselves, out of order.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <rados/librados.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "osd_xo/one_shot.h"
#include "common/result.h"
#include "common/rgw/rgw_manifest.h"

namespace xo::rsp {

using Bytes = std::vector<std::uint8_t>;

/** The bytes of one piece, or why they could not be read. */
using ChunkSlot = std::shared_ptr<OneShot<Result<Bytes>>>;

class ChunkReader {
public:
    virtual ~ChunkReader() = default;

    /** start() - begin reading @piece now; its bytes (or an Error) arrive in the slot. */
    virtual ChunkSlot start(const rgw::Extent& piece) = 0;
};

class RadosChunkReader final : public ChunkReader {
public:
    /**
     * RadosChunkReader() - read pieces through @io.
     * @io: opened on the pieces' pool. Its namespace and locator are set per
     *      read, so it must not be shared with code on other threads.
     */
    RadosChunkReader(boost::asio::any_io_executor executor, librados::IoCtx io)
        : executor_(std::move(executor)), io_(std::move(io))
    {
    }

    ChunkSlot start(const rgw::Extent& piece) override;

private:
    boost::asio::any_io_executor executor_;
    librados::IoCtx io_;
};

} // namespace xo::rsp
