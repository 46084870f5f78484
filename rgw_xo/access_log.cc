#include "rgw_xo/access_log.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/timefmt.h"

namespace xo::gw {

std::string format_access_record(const AccessRecord& r)
{
    std::string line;
    line.reserve(256 + r.target.size());
    auto field = [&line](std::string_view name) {
        line += line.empty() ? "{\"" : ",\"";
        line += name;
        line += "\":";
    };
    field("time");
    append_json_string(line, utc_timestamp());
    field("client");
    append_json_string(line, r.client);
    field("request_id");
    append_json_string(line, r.request_id);
    field("method");
    append_json_string(line, r.method);
    field("target");
    append_json_string(line, r.target);
    field("status");
    line += std::to_string(r.status);
    field("bytes_in");
    line += std::to_string(r.bytes_in);
    field("bytes_sent");
    line += std::to_string(r.bytes_out);
    field("duration_us");
    line += std::to_string(r.duration.count());
    field("outcome");
    append_json_string(line, r.outcome);
    if (!r.offload_reason.empty()) {
        field("offload_reason");
        append_json_string(line, r.offload_reason);
    }
    line += "}\n";
    return line;
}

AccessLog::AccessLog(const std::string& path)
{
    if (path == "-") {
        fd_ = STDOUT_FILENO;
        return;
    }
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd_ < 0)
        error_ = "cannot open access log " + path + ": " + std::strerror(errno);
    owned_ = fd_ >= 0;
}

AccessLog::~AccessLog()
{
    if (owned_)
        ::close(fd_);
}

void AccessLog::write(const AccessRecord& r)
{
    if (fd_ < 0)
        return;
    std::string line = format_access_record(r);
    // A full disk loses log lines, never requests.
    [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
}

} // namespace xo::gw
