// What the gateway does with a client's request head before radosgw sees it.
//
// Theory of operation: the head is read by Beast's request parser under the
// front-door limits (limit_request_head: a header size limit; the body is
// streamed, so it has none), and a head whose body framing is ambiguous is
// refused (check_request_head). Of the head that passed, the gateway changes two
// things only (prepare_request): it sets the client-address header (radosgw
// learns who the client is; a client-supplied value is replaced, never
// trusted), and for a GET the offload path may take (object_get.h) it asks
// radosgw for the first bytes only (byte_range.h explains the narrowing),
// unless the object is known to be small (small_objects.h).
// Everything else — method, target, version, the other fields and the body
// framing — reaches radosgw as the client sent it, so a SigV4 signature
// still verifies. None of this does I/O, so the HTTP fuzz target
// (qa/fuzz/http_request_fuzz.cc) runs exactly what the gateway runs.
#pragma once

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "rgw_xo/byte_range.h"
#include "rgw_xo/object_get.h"
#include "rgw_xo/small_objects.h"

namespace xo::gw {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;

/** limit_request_head() - set @req's limits for a client's request: @max_header_bytes, no body limit. */
void limit_request_head(RequestParser& req, std::size_t max_header_bytes);

/**
 * check_request_head() - whether a head that parsed may be relayed.
 *
 * Return: an HTTP error code (answered 400 like any other syntax error) when
 * the body framing Beast's parser used to read the body is not the one the
 * head states to whoever reads it next. The parser takes the last
 * Transfer-Encoding field, the message (and so the serializer that re-frames
 * the body) only the first: with two of them, say "identity" then "chunked",
 * the gateway decoded a chunked body and sent the decoded bytes unframed to
 * radosgw, whose parser reads them as chunks — a client could end its body
 * early and make radosgw read the rest as a request of its own choosing
 * (request smuggling, found by qa/fuzz/http_request_fuzz.cc).
 */
boost::system::error_code check_request_head(const RequestParser& req);

/** struct PreparedRequest - what prepare_request() decided about a GET. */
struct PreparedRequest {
    std::optional<ObjectGet> object; ///< a GET the offload path may take
    /// The client's range whose first bytes only radosgw was asked for;
    /// without a client Range, bytes=0-. nullopt: the Range is as sent.
    std::optional<RangeRequest> narrowed;
    std::string_view reason; ///< why not offloadable (a metrics label); empty otherwise
};

/**
 * prepare_request() - make @req the head radosgw is sent.
 * @addr_header, @client_address: the client-address header and its value.
 * @threshold: the offload threshold; nullopt when offload is off.
 * @small: objects known to be at most @threshold, whose GETs are not narrowed (null: none known)
 */
PreparedRequest prepare_request(boost::beast::http::request_header<>& req, std::string_view addr_header,
                                std::string_view client_address, std::optional<std::uint64_t> threshold,
                                SmallObjects* small = nullptr);

} // namespace xo::gw
