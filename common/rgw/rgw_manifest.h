// radosgw's object manifest: which RADOS objects hold an S3 object's bytes.
//
// Theory of operation: radosgw 16.2 stores an S3 object as a head RADOS
// object plus, for large or multipart objects, tail objects whose names
// follow from the `user.rgw.manifest` xattr on the head (a Ceph-encoded
// RGWObjManifest, ENCODE_START(7, 6)). decode_manifest() turns the xattr into
// a Manifest, accepting only the structure versions 16.2 writes and refusing
// anything else with a reason. An ExtentCursor then walks the manifest the
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
//
// The cursor checks the whole manifest when it is opened, from the rules
// alone (O(rules + listed objects), never O(stripes)), and then makes one
// extent at a time from any logical offset: a 5 TiB object of 1.3 million
// stripes costs the same memory as a 4 MiB one, and serving a byte range
// only names the stripes the range touches. manifest_extents() collects
// every extent, for tools and tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

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
 * class ExtentCursor - the RADOS extents of an object, in logical order, made
 * one at a time. The extents are contiguous: each starts at the logical offset
 * where the previous one ends, the first at 0, the last ends at obj_size; none
 * is empty; an empty object has none. A default-constructed cursor is an
 * empty object's.
 */
class ExtentCursor {
public:
    ExtentCursor() = default;

    /**
     * open() - check @manifest and stand before its first extent.
     * @head:        the head object's identity; tails are in the same pool and namespace
     * @max_extents: refuse manifests that describe more extents than this
     *
     * Return: the cursor, or an Error when the manifest names a different
     * head, places its tail outside the head's pool, or is inconsistent in a
     * way radosgw's own reader would not handle well-definedly.
     */
    static Result<ExtentCursor> open(Manifest manifest, const HeadObject& head,
                                     std::size_t max_extents = kMaxExtents);

    /** seek() - stand before the extent holding logical offset @offset (obj_size: the end). */
    Result<void> seek(std::uint64_t offset);

    /** next() - the extent the cursor stands before, then step past it; nullopt at the end. */
    std::optional<Extent> next();

    std::uint64_t object_size() const { return manifest_.obj_size; }

private:
    enum class Layout { headed, parts, listed };

    /** struct PartRun - the parts one multipart rule cuts from [start, end). */
    struct PartRun {
        std::size_t rule;        ///< index into manifest_.rules
        std::uint64_t start, end;
        std::uint64_t part_size; ///< 0: one part to end
        std::uint64_t first_part;
    };

    Result<void> check_headed(std::size_t max_extents);
    Result<void> check_parts(std::size_t max_extents);
    Result<void> check_listed(std::size_t max_extents);
    std::uint64_t part_end() const;

    Manifest manifest_;
    HeadObject head_;
    Layout layout_ = Layout::listed; ///< an empty object's: nothing listed
    std::vector<PartRun> runs_; ///< parts layout only
    std::uint64_t at_ = 0;      ///< logical offset of the next extent
    std::uint64_t index_ = 0;   ///< headed: stripe (0: the head); listed: entry
    std::size_t run_ = 0;       ///< parts: the run, part and stripe of the next extent
    std::uint64_t part_ = 0, part_start_ = 0, stripe_ = 0;
};

/**
 * manifest_extents() - every RADOS extent of the object, in order (an
 * ExtentCursor's whole walk; same arguments and errors as ExtentCursor::open()).
 */
Result<std::vector<Extent>> manifest_extents(const Manifest& manifest, const HeadObject& head,
                                             std::size_t max_extents = kMaxExtents);

} // namespace xo::rgw
