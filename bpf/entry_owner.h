// Theory of operation: who wrote a map entry, and whether that process still
// runs. Pinned maps outlive their daemons, so every entry carries its
// writer's identity (flow_maps.h): the pid and the process's start time in
// clock ticks after boot (field 22 of /proc/<pid>/stat). The pair survives
// pid reuse: a new process with the old pid has a later start time. An
// owner is alive when /proc/<pid>/stat exists, shows the same start time and
// is not a zombie (a killed daemon nobody has reaped yet); anything else —
// no such pid, another start time, an unreadable file — is a dead owner. A
// process identifies itself the same way, once, when its data plane is
// opened (a forked child reads its own). Timestamps in entries are
// CLOCK_MONOTONIC nanoseconds, the clock bpf_ktime_get_ns() reads.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "bpf/flow_maps.h"
#include "common/result.h"

namespace xo::bpf {

/** struct EntryOwner - a process, told apart from later ones with its pid. */
struct EntryOwner {
    std::uint32_t pid = 0;
    std::uint64_t start_ticks = 0;

    bool operator==(const EntryOwner&) const = default;
};

/** process_identity() - @pid's identity now; an error if it does not run. */
Result<EntryOwner> process_identity(std::uint32_t pid);

/** this_process() - the calling process's identity. */
Result<EntryOwner> this_process();

/** stamp() - @owner as written into an entry (flags clear). */
xo_entry_owner stamp(const EntryOwner& owner);

/** monotonic_ns() - CLOCK_MONOTONIC now, as bpf_ktime_get_ns() reads it. */
std::uint64_t monotonic_ns();

/**
 * class LiveOwners - "does the owner of this entry still run?" for one sweep.
 * Each pid's /proc entry is read once per object, so a sweep over many
 * entries of one dead daemon costs one read.
 */
class LiveOwners {
public:
    /** LiveOwners() - answers for a sweep run by @self (always alive). */
    explicit LiveOwners(EntryOwner self) : self_(self) {}

    /** mine() - whether @owner is the sweeping process itself. */
    bool mine(const xo_entry_owner& owner) const;

    /** alive() - whether @owner runs: the sweeping process or another live one. */
    bool alive(const xo_entry_owner& owner);

private:
    EntryOwner self_;
    std::unordered_map<std::uint32_t, std::optional<std::uint64_t>> running_; ///< pid → start ticks, if it runs
};

} // namespace xo::bpf
