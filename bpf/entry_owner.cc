// Process identities from /proc/<pid>/stat, and their liveness.
#include "bpf/entry_owner.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace xo::bpf {
namespace {

constexpr int kStartTimeField = 22; // of /proc/<pid>/stat, counting from 1

/**
 * start_ticks_in() - field 22 of a stat line of a running process; the
 * command (field 2) may hold spaces and parentheses. A zombie (state Z, or X)
 * has exited: its stat stays readable until it is reaped, which may be late.
 */
Result<std::uint64_t> start_ticks_in(const std::string& line)
{
    auto close = line.rfind(')');
    if (close == std::string::npos)
        return Error{"unexpected /proc stat line", EINVAL};
    std::istringstream rest(line.substr(close + 1));
    std::string field;
    for (int n = 3; n <= kStartTimeField; ++n) { // field 3, the state, follows the command
        if (!(rest >> field))
            return Error{"short /proc stat line", EINVAL};
        if (n == 3 && (field == "Z" || field == "X"))
            return Error{"process has exited", ESRCH};
    }
    std::uint64_t ticks = 0;
    auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), ticks);
    if (ec != std::errc() || end != field.data() + field.size())
        return Error{"bad start time in /proc stat line", EINVAL};
    return ticks;
}

} // namespace

Result<EntryOwner> process_identity(std::uint32_t pid)
{
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    std::ifstream in(path);
    if (!in)
        return Error::from_errno("read " + path);
    std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto ticks = start_ticks_in(line);
    if (!ticks)
        return with_context(path, ticks.error());
    return EntryOwner{pid, *ticks};
}

Result<EntryOwner> this_process()
{
    return process_identity(static_cast<std::uint32_t>(getpid()));
}

xo_entry_owner stamp(const EntryOwner& owner)
{
    xo_entry_owner wire {};
    wire.pid = owner.pid;
    wire.start_ticks = owner.start_ticks;
    return wire;
}

std::uint64_t monotonic_ns()
{
    timespec now {};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1000000000u + static_cast<std::uint64_t>(now.tv_nsec);
}

bool LiveOwners::mine(const xo_entry_owner& owner) const
{
    return owner.pid == self_.pid && owner.start_ticks == self_.start_ticks;
}

bool LiveOwners::alive(const xo_entry_owner& owner)
{
    if (mine(owner))
        return true;
    auto [it, fresh] = running_.try_emplace(owner.pid);
    if (fresh) {
        if (auto now = process_identity(owner.pid))
            it->second = now->start_ticks;
    }
    return it->second == owner.start_ticks;
}

} // namespace xo::bpf
