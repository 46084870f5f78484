// The offload shaping of a GET: what the gateway changes in radosgw's answer
// (and asks radosgw for on its own) so that a GET it narrowed still gets
// exactly the response the client asked for, and where its body splits
// between the gateway and a responder.
//
// Theory of operation: before radosgw sees a GET the offload path may take,
// prepare_request() (request_head.h) narrows it to the first T bytes (T = the
// offload threshold; byte_range.h has the arithmetic) — unless the worker's
// SmallObjects memory says the object is no larger than T, in which case the
// request goes as the client sent it and radosgw serves it as cheaply as
// without the gateway. The relay (relay.h) owns both connections and every
// body byte; it calls the steps here at three points of an exchange:
//
//   1. retry_unnarrowed(), after radosgw's response header: radosgw refuses
//      any range of an empty object (416). Then the gateway's Range was the
//      cause, so the 416 body is dropped and the same request goes again with
//      the client's own Range (or none), for the answer the client expects.
//   2. shape(), before the header goes to the client: a 206 that answers the
//      gateway's Range becomes the 200 for the whole object (Content-Length
//      from Content-Range's total, Content-Range gone), or, for a client's
//      own narrowed Range, carries the client's range again (widened); a
//      response to a request that was not narrowed stays as it is. It returns
//      the Split (what the gateway relays, what a responder sends) or why
//      the gateway relays everything, and teaches SmallObjects the object's
//      size, which every 2xx answer states.
//   3. request_rest(), when a handoff did not happen after a narrowed
//      request: radosgw sent only the first T bytes, so the gateway asks for
//      the rest itself — the client's signed headers unchanged, an unsigned
//      Range for the rest, and If-Match with the ETag of the first part
//      (unless the client sent its own If-Match), so both parts are the same
//      object's bytes. Anything but the expected 206 ends the connection: the
//      client sees a short body, never wrong bytes.
//
// Without a narrowed request there is nothing to undo: a 200 or a client's
// signed range is split as it comes, and after a handoff the relay closes
// the connection to radosgw, which is still sending.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "rgw_xo/byte_range.h"
#include "rgw_xo/object_get.h"
#include "common/result.h"
#include "rgw_xo/small_objects.h"
#include "rgw_xo/upstream_response.h"

namespace xo::gw {

/** How a GET's body reached the client (GETs that radosgw answered 2xx only). */
enum class OffloadOutcome { none, offloaded, relayed_small, relayed_ineligible, fallback, lost };

/** struct Shaped - shape()'s verdict. */
struct Shaped {
    std::optional<Split> split; ///< nullopt: the gateway relays the whole body
    OffloadOutcome outcome = OffloadOutcome::relayed_ineligible;
    std::string_view reason; ///< why relayed_ineligible (a metrics label)
};

class OffloadShaping {
public:
    /**
     * OffloadShaping() - the shaping of the GET of @object.
     * @narrowed: what prepare_request() narrowed (the client's range, or bytes=0-); nullopt: sent as is
     * @threshold: the offload threshold T
     * @small: the worker's memory of small objects (outlives this)
     */
    OffloadShaping(ObjectGet object, std::optional<RangeRequest> narrowed, std::uint64_t threshold,
                   SmallObjects& small)
        : object_(std::move(object)), narrowed_(narrowed), threshold_(threshold), small_(small)
    {
    }

    const ObjectGet& object() const { return object_; }
    bool narrowed() const { return narrowed_.has_value(); }

    /**
     * retry_unnarrowed() - step 1: when @res is radosgw's 416 to a narrowed
     * @req, drop its body (through @scratch) and send @req again with the
     * client's own Range; @res then holds the new response header.
     *
     * Return: no error when @res is the response to relay (also when nothing
     * was retried); an error when radosgw's answer could not be read (the
     * connection to radosgw is then unusable).
     */
    boost::asio::awaitable<boost::system::error_code> retry_unnarrowed(UpstreamLink up, UpstreamRequest& req,
                                                                       std::optional<ResponseParser>& res,
                                                                       std::span<char> scratch);

    /** shape() - step 2: make @res's 2xx header what the client asked for; return the split. */
    Shaped shape(ResponseParser& res);

    /**
     * request_rest() - step 3: after a narrowed request whose first bytes
     * were relayed, ask radosgw for @split's offloaded bytes (@etag: the
     * first part's). Does nothing when the request was not narrowed (the
     * rest is still coming).
     *
     * Return: success when @res now heads exactly those bytes (or the
     * request was not narrowed); else what radosgw answered.
     */
    boost::asio::awaitable<Result<void>> request_rest(UpstreamLink up, UpstreamRequest& req,
                                                      std::optional<ResponseParser>& res, const Split& split,
                                                      std::string_view etag);

private:
    /** learn() - remember or forget the object by its @total size. */
    void learn(std::uint64_t total);

    ObjectGet object_;
    std::optional<RangeRequest> narrowed_;
    std::uint64_t threshold_;
    SmallObjects& small_;
};

} // namespace xo::gw
