// The marker cache of bucket_marker_cache.h.
#include "rgw_xo/bucket_marker_cache.h"

#include "rgw_xo/bucket_entrypoint.h"

namespace xo::rgw {

namespace {

constexpr char entrypoint_namespace[] = "root";
constexpr size_t entrypoint_max_bytes = 64 * 1024; // a few hundred bytes in practice

} // namespace

BucketMarkerCache::BucketMarkerCache(librados::IoCtx& meta)
{
    meta_.dup(meta);
    meta_.set_namespace(entrypoint_namespace);
}

Result<std::string> BucketMarkerCache::marker(const std::string& bucket, bool& cached)
{
    {
        std::lock_guard lock(mutex_);
        if (auto it = markers_.find(bucket); it != markers_.end()) {
            cached = true;
            return it->second;
        }
    }
    cached = false;

    librados::bufferlist data;
    librados::IoCtx io;
    io.dup(meta_); // IoCtx state is not shared between threads
    if (int r = io.read(bucket, data, entrypoint_max_bytes, 0); r < 0)
        return Error::from_errno("read the entrypoint of bucket " + bucket, -r);
    auto id = decode_bucket_entrypoint(data.to_str());
    if (!id)
        return with_context("bucket " + bucket, id.error());

    std::lock_guard lock(mutex_);
    markers_[bucket] = id->marker;
    return id->marker;
}

void BucketMarkerCache::forget(const std::string& bucket)
{
    std::lock_guard lock(mutex_);
    markers_.erase(bucket);
}

} // namespace xo::rgw
