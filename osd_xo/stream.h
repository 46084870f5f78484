// Theory of operation: sending a byte range of an object with reads
// pipelined ahead of the writes. The bytes the admission already read from
// the head go out first; meanwhile up to `depth` piece reads are in flight.
// Pieces are written strictly in range order: the streamer always waits for
// the oldest read, whatever order reads complete in, and starts the next
// read before writing, so RADOS works while the socket drains. Memory is
// bounded by (depth + 1) pieces. A piece shorter than the manifest says
// (a RADOS object shorter than its extent) ends the stream with an error:
// sending fewer bytes than promised would corrupt the client's response.
// On any error the reads still in flight are abandoned; their buffers live
// until librados completes them (rados_aio.h).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstddef>

#include "osd_xo/byte_sink.h"
#include "osd_xo/chunk_reader.h"
#include "osd_xo/range_slicer.h"

namespace xo::rsp {

/**
 * stream_range() - write @head, then every piece @slicer yields, to @sink.
 * @reader: reads the pieces; outlives the call.
 * @head:   bytes that precede the slicer's range, already read.
 * @depth:  reads in flight ahead of the writes, >= 1.
 *
 * Return: success once every byte was written, or the first read, length or write error.
 */
boost::asio::awaitable<Result<void>> stream_range(ChunkReader& reader, RangeSlicer slicer, Bytes head, ByteSink& sink,
                                                  std::size_t depth);

} // namespace xo::rsp
