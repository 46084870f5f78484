// radosgw's object manifest: which RADOS objects hold an S3 object's bytes.
//
// Theory of operation: radosgw 16.2 stores an S3 object as a head RADOS
// object plus, for large or multipart objects, tail objects whose names
// follow from the `user.rgw.manifest` xattr on the head (a Ceph-encoded
// RGWObjManifest, ENCODE_START(7, 6)). decode_manifest() turns the xattr into
// a Manifest, accepting only the structure versions 16.2 writes and refusing
// anything else with a reason. manifest_extents() then walks the manifest the
// way radosgw's reader does — the head's first head_size bytes, then stripes
// of stripe_max_size per rule, parts of part_size for multipart uploads, or
// the explicit object list of old manifests — and names every RADOS object:
//
//   head:            the identity the caller gives (checked against the manifest)
//   plain tail k:    <marker>__shadow_<prefix><k>                k = 1, 2, ...
//   part N stripe 0: <marker>__multipart_<prefix>.<N>
//   part N stripe k: <marker>__shadow_<prefix>.<N>_<k>
//
// with `:<instance>` after the namespace for versioned objects, and a RADOS
// locator only for head objects whose key starts with '_'. Manifests whose
// tail lives elsewhere than the head's pool (another placement rule, a
// bucket with explicit placement) are refused: the caller only knows the
// head's pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "result.h"

namespace xo::rgw {

/** The xattr on a head object that holds its manifest. */
inline constexpr const char* kManifestXattr = "user.rgw.manifest";

/** An upper bound on extents: a 5 TiB object in 4 MiB stripes is 1.3 million. */
inline constexpr std::size_t kMaxExtents = std::size_t{1} << 21;

struct Bucket {
    std::string name;
    std::string marker; ///< prefix of every RADOS object name of the bucket
    std::string bucket_id;
    std::string tenant;
    bool explicit_placement = false; ///< pools named in the bucket itself (pre-Jewel buckets)
};

struct ObjKey {
    std::string name;
    std::string ns;       ///< "", "shadow", "multipart"
    std::string instance; ///< version id, "" when unversioned
};

/** struct Obj - rgw_obj: an object of a bucket, by key. */
struct Obj {
    Bucket bucket;
    ObjKey key;
};

/** struct Rule - RGWObjManifestRule, stored under @key (its map key). */
struct Rule {
    std::uint64_t key = 0;
    std::uint32_t start_part_num = 0;
    std::uint64_t start_ofs = 0;
    std::uint64_t part_size = 0; ///< 0: one part without end
    std::uint64_t stripe_max_size = 0;
    std::string override_prefix;
};

/** struct ExplicitPart - RGWObjManifestPart, stored under @ofs (its map key). */
struct ExplicitPart {
    std::uint64_t ofs = 0;
    Obj loc;
    std::uint64_t loc_ofs = 0;
    std::uint64_t size = 0;
};

/** struct Manifest - the fields of RGWObjManifest version 7. */
struct Manifest {
    std::uint64_t obj_size = 0;
    std::vector<ExplicitPart> objs; ///< in offset order
    bool explicit_objs = false;
    Obj obj; ///< the head
    std::uint64_t head_size = 0;
    std::uint64_t max_head_size = 0;
    std::string prefix;
    std::vector<Rule> rules; ///< in key order
    Bucket tail_bucket;       ///< obj.bucket unless encoded
    std::string tail_instance; ///< obj.key.instance unless encoded
    std::string head_placement_rule;
    std::string tail_placement_rule;
};

/** struct RadosName - a RADOS object's name and locator ("" for none). */
struct RadosName {
    std::string oid;
    std::string locator;
};

/** struct HeadObject - where the caller found the head object. */
struct HeadObject {
    std::string pool;
    std::string nspace; ///< RADOS namespace
    std::string oid;
    std::string locator;
};

/** struct Extent - @length bytes at @rados_offset of one RADOS object, which are
 * the S3 object's bytes from @logical_offset. */
struct Extent {
    std::string pool;
    std::string nspace;
    std::string oid;
    std::string locator;
    std::uint64_t rados_offset = 0;
    std::uint64_t length = 0;
    std::uint64_t logical_offset = 0;
};

/**
 * decode_manifest() - decode a `user.rgw.manifest` xattr as radosgw 16.2 writes it.
 * @xattr: the xattr's bytes
 *
 * Return: the manifest, or an Error for truncated or corrupt input, for
 * structure versions other than those radosgw 16.2 writes, and for bytes left
 * after the last field.
 */
Result<Manifest> decode_manifest(std::span<const std::uint8_t> xattr);

/**
 * rados_name() - the RADOS object name and locator radosgw gives @obj.
 */
RadosName rados_name(const Obj& obj);

/**
 * manifest_extents() - the RADOS extents that make up the object, in order.
 * @manifest:    a decoded manifest
 * @head:        the head object's identity; tails are in the same pool and namespace
 * @max_extents: refuse manifests that describe more extents than this
 *
 * The extents are contiguous: each starts at the logical offset where the
 * previous one ends, the first at 0, the last ends at obj_size; an empty
 * object has none.
 *
 * Return: the extents, or an Error when the manifest names a different head,
 * places its tail outside the head's pool, or is inconsistent in a way
 * radosgw's own reader would not handle well-definedly.
 */
Result<std::vector<Extent>> manifest_extents(const Manifest& manifest, const HeadObject& head,
                                             std::size_t max_extents = kMaxExtents);

} // namespace xo::rgw
