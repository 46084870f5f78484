// The byte arithmetic of an offloaded GET.
//
// Theory of operation: radosgw answers first, and the gateway relays the
// first bytes itself, so radosgw must not be made to read more than those.
// For a GET without a client Range the gateway adds `Range: bytes=0-(T-1)`
// (T = the offload threshold; an unsigned header, which SigV2/SigV4 leave
// alone) and turns radosgw's 206 back into the 200 the client asked for:
// Content-Length becomes the total from Content-Range, which goes. Objects
// of at most T bytes arrive whole that way and are relayed; for larger ones
// the gateway relays the T bytes and a responder sends the rest. A client's
// own `bytes=a-[b]` that it did not sign (presigned URLs, SigV2, anonymous)
// is narrowed the same way to its first T bytes, and radosgw's Content-Range
// is widened back to what the client asked for. A signed Range (or a suffix
// range) stays as it is: its first T bytes are relayed, the rest offloaded,
// and radosgw's read-ahead window is the price.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xo::gw {

/** struct ContentRange - "bytes first-last/total" of a 206. */
struct ContentRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0; ///< inclusive
    std::uint64_t total = 0;
    std::uint64_t length() const { return last - first + 1; }
};

/** parse_content_range() - @value as a satisfied byte range; nullopt if it is anything else. */
std::optional<ContentRange> parse_content_range(std::string_view value);

/** struct RangeRequest - "bytes=first-[last]": one range from a given offset. */
struct RangeRequest {
    std::uint64_t first = 0;
    std::optional<std::uint64_t> last; ///< inclusive; none: to the end
};

/**
 * parse_range_request() - a Range header value of the one shape the gateway
 * narrows; nullopt for suffix ranges, several ranges or anything else.
 */
std::optional<RangeRequest> parse_range_request(std::string_view value);

/**
 * range_of() - the Range header value that asks for @bytes (> 0) bytes from offset @first on.
 *
 * The last offset saturates at 2^64-1 rather than wrapping round: a client's
 * `bytes=N-` with N near 2^64 then still asks radosgw for bytes from N on
 * (which it answers 416, as it would the client's own header), never for a
 * range that ends before it starts.
 */
std::string range_of(std::uint64_t first, std::uint64_t bytes);

/** range_value() - "bytes=first-last" for the inclusive range. */
std::string range_value(std::uint64_t first, std::uint64_t last);

/** struct Split - a response body in two: what the gateway relays, then what a responder sends. */
struct Split {
    std::uint64_t relay = 0;        ///< body bytes relayed from radosgw's response
    std::uint64_t offload_first = 0; ///< object offset of the first offloaded byte
    std::uint64_t offload_length = 0;
    std::uint64_t object_size = 0;
};

/**
 * split_body() - how to deliver a body of @range bytes of an object when the
 * gateway relays at most @relay_limit of them.
 *
 * Return: the split, or nullopt when the gateway relays everything.
 */
std::optional<Split> split_body(const ContentRange& range, std::uint64_t relay_limit);

} // namespace xo::gw
