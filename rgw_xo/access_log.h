// One JSON object per line per request: what was asked, what was answered,
// how many body bytes moved each way and how long it took. Lines are written
// with one write(2) on an O_APPEND descriptor, so the I/O threads need no lock
// and logrotate's copytruncate or a rename-and-reopen never splits a line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace xo::gw {

struct AccessRecord {
    std::string_view client;     ///< client address:port
    std::string_view request_id; ///< the gateway's id for this request
    std::string_view method;
    std::string_view target;
    unsigned status = 0;          ///< status sent to the client; 0 if none was
    std::uint64_t bytes_in = 0;   ///< request body bytes received from the client
    std::uint64_t bytes_out = 0;  ///< response body bytes the client got: relayed, plus a responder's for an offloaded GET
    std::chrono::microseconds duration{0};
    std::string_view outcome;     ///< "relayed", or why the request ended otherwise
    std::string_view offload_reason; ///< why a GET was not offloaded (xo_offload_total's reason); logged if set
};

/** format_access_record() - @r as one JSON line, newline included. */
std::string format_access_record(const AccessRecord& r);

class AccessLog {
public:
    /** Opens @path for appending ("-" is stdout). Check ok() afterwards. */
    explicit AccessLog(const std::string& path);
    ~AccessLog();
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;

    bool ok() const { return fd_ >= 0; }
    const std::string& error() const { return error_; }

    void write(const AccessRecord& r);

private:
    int fd_ = -1;
    bool owned_ = false;
    std::string error_;
};

} // namespace xo::gw
