// The S3 name -> primary OSD host lookup of locator.h.
#include "rgw_xo/locator.h"

#include <cerrno>
#include <cstdio>

namespace xo::rgw {

Result<std::unique_ptr<Locator>> Locator::create(const LocatorConfig& config)
{
    auto cluster = RadosCluster::connect(config.cluster);
    if (!cluster)
        return cluster.error();
    librados::IoCtx data, meta;
    if (int r = (*cluster)->rados().ioctx_create(config.data_pool.c_str(), data); r < 0)
        return Error::from_errno("open pool " + config.data_pool, -r);
    if (int r = (*cluster)->rados().ioctx_create(config.meta_pool.c_str(), meta); r < 0)
        return Error::from_errno("open pool " + config.meta_pool, -r);

    std::unique_ptr<Locator> locator(
        new Locator(std::move(*cluster), std::move(data), std::move(meta), config.data_pool));
    OsdMapCache* osd_map = &locator->osd_map_;
    if (auto r = locator->cluster_->watch_osdmap_epochs([osd_map](uint64_t e) { osd_map->note_epoch(e); }); !r)
        return r.error();
    return locator;
}

Locator::Locator(std::unique_ptr<RadosCluster> cluster, librados::IoCtx data, librados::IoCtx meta,
                 std::string data_pool)
    : cluster_(std::move(cluster)), data_(std::move(data)), meta_(std::move(meta)), data_pool_(std::move(data_pool)),
      markers_(meta_), osd_map_(*cluster_)
{
}

Locator::~Locator()
{
    cluster_->unwatch_osdmap_epochs(); // its callback points into osd_map_
}

Result<uint64_t> Locator::stat_head(const HeadName& head)
{
    librados::IoCtx io;
    io.dup(data_); // the locator key is IoCtx state: one IoCtx per call
    io.locator_set_key(head.locator);
    uint64_t size = 0;
    time_t mtime = 0;
    if (int r = io.stat(head.oid, &size, &mtime); r < 0)
        return Error::from_errno("stat head object " + head.oid, -r);
    return size;
}

Result<Location> Locator::locate(const ObjectName& name)
{
    Location where;
    where.pool = data_pool_;
    where.pool_id = data_.get_id();

    // A cached marker may belong to a deleted bucket: on a missing head, ask once more.
    for (int attempt = 0;; ++attempt) {
        bool cached = false;
        auto marker = markers_.marker(name.bucket, cached);
        if (!marker)
            return marker.error();
        auto head = head_object(*marker, name.key, name.version_id);
        if (!head)
            return head.error();
        auto size = stat_head(*head);
        if (size) {
            where.head = std::move(*head);
            where.head_size = *size;
            break;
        }
        if (size.error().code != ENOENT || !cached || attempt > 0)
            return size.error();
        markers_.forget(name.bucket);
    }

    uint32_t seed = 0;
    if (int r = data_.get_object_pg_hash_position2(where.head.placement_name(), &seed); r < 0)
        return Error::from_errno("hash " + where.head.placement_name() + " to a PG", -r);
    char pgid[40];
    std::snprintf(pgid, sizeof pgid, "%lld.%x", static_cast<long long>(where.pool_id), seed);
    where.pgid = pgid;

    auto primary = osd_map_.primary(data_pool_, where.pool_id, seed, where.head.placement_name());
    if (!primary)
        return primary.error();
    if (primary->pg.pgid != where.pgid)
        return Error{"PG mismatch for " + where.head.placement_name() + ": librados " + where.pgid + ", monitor " +
                         primary->pg.pgid,
                     0};
    where.osd = primary->pg.acting_primary;
    where.epoch = primary->pg.epoch;
    where.primary_cached = primary->cached;

    auto host = osd_map_.host_address(where.osd);
    if (!host)
        return host.error();
    where.host = std::move(*host);
    return where;
}

} // namespace xo::rgw
