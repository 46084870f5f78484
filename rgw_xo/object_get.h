// Which client requests the offload path may take, read from the request alone.
//
// Theory of operation: only a plain GET of one object can leave the relay:
// path-style `/bucket/key` (the key percent-decoded as radosgw does), with no
// query parameter beyond those that pick a version, override response
// headers or carry a presigned signature — everything else (?acl, ?tagging,
// ?partNumber, ?uploadId, listings...) is a different resource whose body is
// not the object's bytes. If-Range makes the response shape depend on a
// validator, so it stays relayed too. Whether the object is large enough, and
// what radosgw thinks of the request, is decided later from its response.
#pragma once

#include <boost/beast/http/message.hpp>

#include <string>
#include <string_view>
#include <variant>

#include "common/rgw/rgw_oid.h"

namespace xo::gw {

/** struct ObjectGet - a GET of one object the offload path may take. */
struct ObjectGet {
    rgw::ObjectName name;      ///< version_id from ?versionId, if any
    bool client_range = false; ///< the client asked for a Range itself
    bool range_signed = false; ///< ... and its signature covers it (SigV4 SignedHeaders)
};

/**
 * classify_get() - whether @req may be offloaded.
 *
 * Return: the object it reads, or the reason (a short label for metrics) why not.
 */
std::variant<ObjectGet, std::string_view> classify_get(const boost::beast::http::request_header<>& req);

/**
 * percent_decode() - @s with %XX escapes decoded.
 *
 * Return: false when an escape is malformed.
 */
bool percent_decode(std::string_view s, std::string& out);

} // namespace xo::gw
