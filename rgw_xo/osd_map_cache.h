// Theory of operation: librados hashes an object to its PG locally, but no
// public librados call maps a PG to its acting primary; the monitor's
// `osd map` command does (~0.5 ms). OsdMapCache keeps those answers per
// (pool id, PG seed), and each OSD's host address from one `osd dump`, and
// ties both to the OSD map epoch they came from.
//
// Epoch changes are PUSHED: the owner feeds note_epoch() from the monitor's
// cluster log ("osdmap eN" lines, see RadosCluster::watch_osdmap_epochs), and
// every monitor answer carries its epoch too. Push rather than polling
// `osd stat`: a poll costs a monitor round trip per request (or leaves a
// stale window as long as its period), a push costs nothing per request and
// arrives within milliseconds of the new map. The first lookup after the
// epoch advanced drops the whole cache; an answer from an older epoch than
// the newest one seen is returned but not cached. Thread-safe; the monitor
// is never called with the lock held.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "rgw_xo/osd_map_json.h"
#include "rgw_xo/rados_cluster.h"
#include "common/result.h"

namespace xo::rgw {

/** An acting primary, the epoch it holds for, and whether it came from the cache. */
struct PrimaryAnswer {
    PgPrimary pg;
    bool cached = false;
};

class OsdMapCache {
public:
    explicit OsdMapCache(RadosCluster& cluster) : cluster_(cluster) {}

    /** note_epoch() - an OSD map with epoch @epoch exists; safe from any thread. */
    void note_epoch(uint64_t epoch);

    /** epoch() - the newest OSD map epoch seen. */
    uint64_t epoch() const { return epoch_.load(); }

    /**
     * primary() - the acting primary of the PG holding @placement_name.
     * @pool: pool name; @pool_id and @seed: the PG, as librados hashed @placement_name
     * Return: the answer, or an Error if the monitor fails or the PG has no primary.
     */
    Result<PrimaryAnswer> primary(const std::string& pool, int64_t pool_id, uint32_t seed,
                                  const std::string& placement_name);

    /**
     * host_address() - the public IP of @osd's host at the newest epoch seen.
     * Return: the IP, or an Error if the monitor fails or @osd is not up.
     */
    Result<std::string> host_address(int osd);

    /** drops() - how many times a cache was dropped for a new epoch. */
    uint64_t drops() const { return drops_.load(); }

private:
    /** drop_if_stale_locked() - empty the caches if the epoch moved past them. */
    void drop_if_stale_locked();

    RadosCluster& cluster_;
    std::atomic<uint64_t> epoch_{0};
    std::atomic<uint64_t> drops_{0};
    std::mutex mutex_;
    uint64_t cached_epoch_ = 0; ///< epoch of everything in primaries_ and addresses_
    std::map<std::pair<int64_t, uint32_t>, PgPrimary> primaries_;
    OsdAddresses addresses_;
};

} // namespace xo::rgw
