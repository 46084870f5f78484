// Errors the gateway itself has to answer — before or instead of radosgw —
// rendered the way S3 clients expect them: an XML <Error> document with the
// S3 code, so SDKs surface a proper exception rather than a parse failure.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <string>
#include <string_view>

namespace xo::gw {

struct S3Error {
    boost::beast::http::status status;
    std::string_view code;
    std::string_view message;
};

namespace errors {
inline constexpr S3Error header_too_large{boost::beast::http::status::bad_request, "RequestHeaderSectionTooLarge",
                                          "Your request header section exceeds the maximum allowed size."};
inline constexpr S3Error bad_request{boost::beast::http::status::bad_request, "BadRequest",
                                     "The request could not be parsed as HTTP/1.1."};
inline constexpr S3Error service_unavailable{boost::beast::http::status::service_unavailable, "ServiceUnavailable",
                                             "The storage service is unreachable. Please retry."};
inline constexpr S3Error slow_down{boost::beast::http::status::service_unavailable, "SlowDown",
                                   "Please reduce your request rate."};
inline constexpr S3Error bad_gateway{boost::beast::http::status::bad_gateway, "BadGateway",
                                     "The storage service sent an invalid response."};
} // namespace errors

/**
 * is_http_syntax_error() - whether @ec says the peer sent something that is not
 * HTTP/1.1 (as opposed to hanging up or timing out), which deserves a 400.
 */
bool is_http_syntax_error(const boost::system::error_code& ec);

/**
 * make_error_response() - an S3 XML error response that closes the connection.
 * @err: which error.
 * @resource: the request target, if known (escaped into the document).
 * @request_id: echoed in the document and in x-amz-request-id.
 */
boost::beast::http::response<boost::beast::http::string_body>
make_error_response(const S3Error& err, std::string_view resource, std::string_view request_id);

} // namespace xo::gw
