#include "common/log.h"

#include <atomic>
#include <unistd.h>

#include "common/timefmt.h"

namespace xo::log {
namespace {

std::atomic<Level> current_level{Level::info};

const char* level_name(Level level)
{
    switch (level) {
    case Level::debug: return "DEBUG";
    case Level::info: return "INFO";
    case Level::warn: return "WARN";
    case Level::error: return "ERROR";
    }
    return "?";
}

} // namespace

void set_level(Level level) { current_level.store(level, std::memory_order_relaxed); }

bool enabled(Level level) { return level >= current_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view name, Level& out)
{
    static constexpr std::pair<std::string_view, Level> names[] = {
        {"debug", Level::debug}, {"info", Level::info}, {"warn", Level::warn}, {"error", Level::error}};
    for (const auto& [n, l] : names) {
        if (n == name) {
            out = l;
            return true;
        }
    }
    return false;
}

void write_line(Level level, std::string_view message)
{
    std::string line = utc_timestamp();
    line += ' ';
    line += level_name(level);
    line += ' ';
    line += message;
    line += '\n';
    // Best effort: a full or closed stderr must not take the daemon down.
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

} // namespace xo::log
