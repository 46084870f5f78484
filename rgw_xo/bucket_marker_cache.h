// Theory of operation: every RADOS object of a bucket is named after the
// bucket's marker, which only radosgw's metadata knows. BucketMarkerCache
// reads it from the bucket's entrypoint object (metadata pool, namespace
// "root", see bucket_entrypoint.h) over the process's one librados handle —
// no HTTP client, no admin credentials, one small OSD read per miss — and
// caches it per bucket name.
//
// Staleness: a bucket that is deleted and recreated under the same name gets
// a new marker, so a cached marker can name objects that no longer exist.
// The cache does not guess when that happens; the Locator verifies each head
// object it names (a stat) and calls forget() when it is missing, then asks
// again: a stale marker costs one extra read and never yields an answer.
// forget() is also the hook for the gateway to call when it relays a
// DeleteBucket. Thread-safe; RADOS is never called with the lock held.
#pragma once

#include <rados/librados.hpp>

#include <map>
#include <mutex>
#include <string>

#include "common/result.h"

namespace xo::rgw {

class BucketMarkerCache {
public:
    /** @meta: an IoCtx on radosgw's metadata pool (default.rgw.meta); copied. */
    explicit BucketMarkerCache(librados::IoCtx& meta);

    /**
     * marker() - the marker of bucket @bucket ("<tenant>/<name>" for a tenant's bucket).
     * @cached: set to whether the answer came from the cache
     * Return: the marker, or an Error with code ENOENT if there is no such bucket.
     */
    Result<std::string> marker(const std::string& bucket, bool& cached);

    /** forget() - drop @bucket's cached marker, if any. */
    void forget(const std::string& bucket);

private:
    librados::IoCtx meta_;
    std::mutex mutex_;
    std::map<std::string, std::string> markers_;
};

} // namespace xo::rgw
