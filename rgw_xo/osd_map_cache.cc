// The epoch-tied caches of osd_map_cache.h.
#include "rgw_xo/osd_map_cache.h"

namespace xo::rgw {

void OsdMapCache::note_epoch(uint64_t epoch)
{
    uint64_t seen = epoch_.load();
    while (epoch > seen && !epoch_.compare_exchange_weak(seen, epoch)) {
    }
}

void OsdMapCache::drop_if_stale_locked()
{
    const uint64_t now = epoch_.load();
    if (cached_epoch_ == now)
        return;
    if (!primaries_.empty() || !addresses_.host.empty())
        drops_.fetch_add(1);
    primaries_.clear();
    addresses_ = {};
    cached_epoch_ = now;
}

Result<PrimaryAnswer> OsdMapCache::primary(const std::string& pool, int64_t pool_id, uint32_t seed,
                                           const std::string& placement_name)
{
    const auto key = std::make_pair(pool_id, seed);
    {
        std::lock_guard lock(mutex_);
        drop_if_stale_locked();
        if (auto it = primaries_.find(key); it != primaries_.end())
            return PrimaryAnswer{it->second, true};
    }

    std::string command = "{\"prefix\":\"osd map\",\"format\":\"json\",\"pool\":";
    append_json_utf8(command, pool);
    command += ",\"object\":";
    append_json_utf8(command, placement_name);
    command += "}";
    auto reply = cluster_.mon_command(command);
    if (!reply)
        return reply.error();
    auto pg = parse_osd_map_reply(*reply);
    if (!pg)
        return pg.error();
    note_epoch(pg->epoch);

    std::lock_guard lock(mutex_);
    drop_if_stale_locked();
    if (pg->epoch == cached_epoch_)
        primaries_[key] = *pg;
    return PrimaryAnswer{*pg, false};
}

Result<std::string> OsdMapCache::host_address(int osd)
{
    {
        std::lock_guard lock(mutex_);
        drop_if_stale_locked();
        if (auto it = addresses_.host.find(osd); it != addresses_.host.end())
            return it->second;
    }

    auto reply = cluster_.mon_command("{\"prefix\":\"osd dump\",\"format\":\"json\"}");
    if (!reply)
        return reply.error();
    auto dump = parse_osd_dump_addresses(*reply);
    if (!dump)
        return dump.error();
    note_epoch(dump->epoch);

    std::lock_guard lock(mutex_);
    drop_if_stale_locked();
    auto it = dump->host.find(osd);
    if (it == dump->host.end())
        return Error{"osd." + std::to_string(osd) + " is not up at epoch " + std::to_string(dump->epoch), 0};
    std::string host = it->second;
    if (dump->epoch == cached_epoch_)
        addresses_ = std::move(*dump);
    return host;
}

} // namespace xo::rgw
