#include "osd_xo/stream.h"

#include <algorithm>
#include <deque>

namespace xo::rsp {

namespace {

struct InFlight {
    rgw::Extent piece;
    ChunkSlot slot;
};

/** fill() - start reads until @depth are in flight or the range is exhausted. */
void fill(std::deque<InFlight>& in_flight, RangeSlicer& slicer, ChunkReader& reader, std::size_t depth)
{
    while (in_flight.size() < depth) {
        auto piece = slicer.next();
        if (!piece)
            return;
        auto slot = reader.start(*piece);
        in_flight.push_back(InFlight{std::move(*piece), std::move(slot)});
    }
}

} // namespace

boost::asio::awaitable<Result<void>> stream_range(ChunkReader& reader, RangeSlicer slicer, Bytes head, ByteSink& sink,
                                                  std::size_t depth)
{
    depth = std::max<std::size_t>(depth, 1);
    std::deque<InFlight> in_flight;
    fill(in_flight, slicer, reader, depth);
    if (!head.empty()) {
        auto written = co_await sink.write(head);
        if (!written)
            co_return written.error();
    }
    while (!in_flight.empty()) {
        InFlight oldest = std::move(in_flight.front());
        in_flight.pop_front();
        Result<Bytes> bytes = co_await oldest.slot->take();
        if (!bytes)
            co_return bytes.error();
        if (bytes->size() != oldest.piece.length)
            co_return Error{"short read: " + oldest.piece.oid + " gave " + std::to_string(bytes->size()) + " of " +
                                std::to_string(oldest.piece.length) + " bytes at offset " +
                                std::to_string(oldest.piece.rados_offset),
                            EIO};
        fill(in_flight, slicer, reader, depth);
        auto written = co_await sink.write(*bytes);
        if (!written)
            co_return written.error();
    }
    co_return Result<void>();
}

} // namespace xo::rsp
