#include "common/timefmt.h"

#include <ctime>

namespace xo {
namespace {

std::tm utc_tm(std::chrono::system_clock::time_point t)
{
    std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return tm;
}

} // namespace

std::string utc_timestamp(std::chrono::system_clock::time_point t)
{
    std::tm tm = utc_tm(t);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros));
    return buf;
}

std::string http_date(std::chrono::system_clock::time_point t)
{
    std::tm tm = utc_tm(t);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

} // namespace xo
