// Theory of operation: daemons log leveled, timestamped lines to stderr so a
// supervisor (vstart, systemd) owns rotation. Each line is formatted into one
// string and written with a single write(2), so lines from different threads
// never interleave. Messages are built with operator<< on a fold expression,
// which keeps call sites short: log::info("listening on ", ep).
#pragma once

#include <sstream>
#include <string_view>

namespace xo::log {

enum class Level { debug, info, warn, error };

/** set_level() - drop every message below @level from now on. */
void set_level(Level level);

/** parse_level() - "debug"|"info"|"warn"|"error" to a Level; false if unknown. */
bool parse_level(std::string_view name, Level& out);

/** enabled() - whether a message at @level would be written. */
bool enabled(Level level);

/** write_line() - emit one finished message at @level with a timestamp. */
void write_line(Level level, std::string_view message);

template <typename... Args>
void emit(Level level, const Args&... args)
{
    if (!enabled(level))
        return;
    std::ostringstream out;
    (out << ... << args);
    write_line(level, out.str());
}

template <typename... Args> void debug(const Args&... a) { emit(Level::debug, a...); }
template <typename... Args> void info(const Args&... a) { emit(Level::info, a...); }
template <typename... Args> void warn(const Args&... a) { emit(Level::warn, a...); }
template <typename... Args> void error(const Args&... a) { emit(Level::error, a...); }

} // namespace xo::log
