// Theory of operation: the gateway offloads a GET to the responder on the
// host of the object's primary OSD, so for an S3 name it needs that host.
// Locator answers in five steps:
//
//   bucket name ──BucketMarkerCache──▶ marker
//   marker + key + version ──head_object()──▶ head oid (+ locator key)
//   head ──stat──▶ proof the head exists (and its size)
//   placement name ──librados hash (local)──▶ PG ──OsdMapCache──▶ acting primary
//   primary ──OsdMapCache (osd dump)──▶ the OSD host's public IP
//
// The stat is what keeps a cached marker honest: a recreated bucket has a
// new marker, the old head is gone, so a miss re-reads the marker once
// before reporting ENOENT. It also proves the pool and the name mapping for
// every answer given. One librados handle serves everything; the monitor's
// "osdmap eN" pushes keep the PG cache tied to the current OSD map. Calls
// block (a stat, plus monitor round trips on cache misses), bounded by the
// configured operation timeout; they are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "rgw_xo/bucket_marker_cache.h"
#include "rgw_xo/osd_map_cache.h"
#include "rgw_xo/rados_cluster.h"
#include "common/result.h"
#include "common/rgw/rgw_oid.h"

namespace xo::rgw {

struct LocatorConfig {
    ClusterConfig cluster;
    std::string data_pool = "default.rgw.buckets.data"; ///< the default placement's data pool
    std::string meta_pool = "default.rgw.meta";
};

/** Where an object's head lives and who serves it. */
struct Location {
    std::string pool;
    int64_t pool_id = 0;
    HeadName head;
    uint64_t head_size = 0; ///< bytes in the head RADOS object
    std::string pgid;       ///< "<pool id>.<seed hex>"
    int osd = -1;           ///< acting primary
    std::string host;       ///< public IP of the primary's host
    uint64_t epoch = 0;     ///< OSD map epoch of the primary
    bool primary_cached = false;
};

class Locator {
public:
    /** create() - connect to the cluster and subscribe to OSD map epochs. */
    static Result<std::unique_ptr<Locator>> create(const LocatorConfig& config);

    ~Locator();
    Locator(const Locator&) = delete;
    Locator& operator=(const Locator&) = delete;

    /**
     * locate() - where @name's head object lives.
     * Return: the location, or an Error (code ENOENT when the bucket or the
     * head object does not exist).
     */
    Result<Location> locate(const ObjectName& name);

    /** forget_bucket() - drop a cached marker, e.g. when a DeleteBucket was relayed. */
    void forget_bucket(const std::string& bucket) { markers_.forget(bucket); }

    /** cluster() - the connection, e.g. to register in the service map. */
    RadosCluster& cluster() { return *cluster_; }

    /** osd_map() - the epoch-tied caches, for statistics. */
    const OsdMapCache& osd_map() const { return osd_map_; }

private:
    Locator(std::unique_ptr<RadosCluster> cluster, librados::IoCtx data, librados::IoCtx meta, std::string data_pool);

    /** stat_head() - the head's size, or an Error (ENOENT if absent). */
    Result<uint64_t> stat_head(const HeadName& head);

    std::unique_ptr<RadosCluster> cluster_;
    librados::IoCtx data_;
    librados::IoCtx meta_;
    std::string data_pool_;
    BucketMarkerCache markers_;
    OsdMapCache osd_map_;
};

} // namespace xo::rgw
