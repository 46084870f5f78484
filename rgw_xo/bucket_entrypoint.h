// Theory of operation: radosgw keeps, per bucket name, a small "entrypoint"
// object in the metadata pool (default.rgw.meta, namespace "root", object
// "<bucket>" or "<tenant>/<bucket>"). Its data is a Ceph-encoded
// RGWBucketEntryPoint whose first member is the rgw_bucket naming the bucket
// instance that currently owns the name:
//
//   u8 struct_v (10), u8 compat (8), u32 length        RGWBucketEntryPoint
//     u8 struct_v (10), u8 compat (10), u32 length     rgw_bucket
//       string name, string marker, string bucket_id, string tenant, ...
//   (string = u32 little-endian length + bytes)
//
// We decode only that prefix and refuse anything whose versions say the
// layout could differ (older rgw_bucket encodings carried pool names first;
// a compat version above the one we know means an incompatible change).
// Deleting and recreating a bucket writes a new entrypoint with a new marker.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace xo::rgw {

/** What an entrypoint says about the bucket instance that owns a name. */
struct BucketIdentity {
    std::string name;
    std::string marker;    ///< prefix of every RADOS object of the bucket
    std::string bucket_id; ///< the instance id (equals the marker unless resharded)
    std::string tenant;
};

/**
 * decode_bucket_entrypoint() - the bucket identity from an entrypoint object's data.
 * @data: the object's bytes as read from RADOS
 *
 * Return: the identity, or an Error if the data is truncated, has an encoding
 * version we do not understand, or names no marker.
 */
Result<BucketIdentity> decode_bucket_entrypoint(std::string_view data);

} // namespace xo::rgw
