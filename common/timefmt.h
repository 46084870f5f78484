// Time formats the daemons print: ISO 8601 for logs, RFC 7231 for HTTP Date.
#pragma once

#include <chrono>
#include <string>

namespace xo {

/** utc_timestamp() - now as 2026-11-22T02:50:00.123456Z. */
std::string utc_timestamp(std::chrono::system_clock::time_point t = std::chrono::system_clock::now());

/** http_date() - @t as an HTTP Date header value (Sun, 22 Nov 2026 02:50:00 GMT). */
std::string http_date(std::chrono::system_clock::time_point t = std::chrono::system_clock::now());

} // namespace xo
