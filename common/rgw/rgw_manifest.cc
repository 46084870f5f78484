// Decoding of RGWObjManifest (see rgw_manifest.h). Every structure accepts
// only the struct_v radosgw 16.2 writes: RGWObjManifest 7, rgw_obj 6,
// rgw_bucket 10, rgw_pool 10, RGWObjManifestRule 2, RGWObjManifestPart 2.
// Older versions have other field layouts and newer ones may carry fields
// that change the meaning (we could not tell), so both are refused.
#include "common/rgw/rgw_manifest.h"

#include "common/rgw/ceph_decode.h"

// Decode into `var` or return the error (undefined at the end of this file).
#define XO_TRY(var, expr)            \
    auto var = (expr);               \
    if (!var)                        \
        return var.error()

namespace xo::rgw {
namespace {

using rgw::CephReader;

// RADOS object names are at most 2048 bytes by default; S3 keys 1024.
constexpr std::size_t kMaxString = 4096;

Result<void> decode_pool(CephReader& in, const char* what)
{
    XO_TRY(s, in.begin_struct(what, 10, 10));
    XO_TRY(name, s->body.string("rgw_pool.name", kMaxString));
    XO_TRY(ns, s->body.string("rgw_pool.ns", kMaxString));
    return s->body.end(what);
}

Result<Bucket> decode_bucket(CephReader& in)
{
    XO_TRY(s, in.begin_struct("rgw_bucket", 10, 10));
    CephReader& b = s->body;
    Bucket out;
    XO_TRY(name, b.string("rgw_bucket.name", kMaxString));
    XO_TRY(marker, b.string("rgw_bucket.marker", kMaxString));
    XO_TRY(id, b.string("rgw_bucket.bucket_id", kMaxString));
    XO_TRY(tenant, b.string("rgw_bucket.tenant", kMaxString));
    XO_TRY(explicit_placement, b.boolean("rgw_bucket explicit placement flag"));
    if (*explicit_placement) {
        for (const char* pool : {"rgw_bucket data_pool", "rgw_bucket data_extra_pool", "rgw_bucket index_pool"}) {
            XO_TRY(p, decode_pool(b, pool));
        }
    }
    XO_TRY(done, b.end("rgw_bucket"));
    return Bucket{std::move(*name), std::move(*marker), std::move(*id), std::move(*tenant), *explicit_placement};
}

Result<Obj> decode_obj(CephReader& in)
{
    XO_TRY(s, in.begin_struct("rgw_obj", 6, 6));
    XO_TRY(bucket, decode_bucket(s->body));
    XO_TRY(ns, s->body.string("rgw_obj.key.ns", kMaxString));
    XO_TRY(name, s->body.string("rgw_obj.key.name", kMaxString));
    XO_TRY(instance, s->body.string("rgw_obj.key.instance", kMaxString));
    XO_TRY(done, s->body.end("rgw_obj"));
    return Obj{std::move(*bucket), ObjKey{std::move(*name), std::move(*ns), std::move(*instance)}};
}

Result<ExplicitPart> decode_part(CephReader& in, std::uint64_t ofs)
{
    XO_TRY(s, in.begin_struct("RGWObjManifestPart", 2, 2));
    XO_TRY(loc, decode_obj(s->body));
    XO_TRY(loc_ofs, s->body.u64("RGWObjManifestPart.loc_ofs"));
    XO_TRY(size, s->body.u64("RGWObjManifestPart.size"));
    XO_TRY(done, s->body.end("RGWObjManifestPart"));
    return ExplicitPart{ofs, std::move(*loc), *loc_ofs, *size};
}

Result<Rule> decode_rule(CephReader& in, std::uint64_t key)
{
    XO_TRY(s, in.begin_struct("RGWObjManifestRule", 2, 2));
    CephReader& r = s->body;
    XO_TRY(start_part_num, r.u32("RGWObjManifestRule.start_part_num"));
    XO_TRY(start_ofs, r.u64("RGWObjManifestRule.start_ofs"));
    XO_TRY(part_size, r.u64("RGWObjManifestRule.part_size"));
    XO_TRY(stripe_max_size, r.u64("RGWObjManifestRule.stripe_max_size"));
    XO_TRY(override_prefix, r.string("RGWObjManifestRule.override_prefix", kMaxString));
    XO_TRY(done, r.end("RGWObjManifestRule"));
    return Rule{key, *start_part_num, *start_ofs, *part_size, *stripe_max_size, std::move(*override_prefix)};
}

// A std::map<uint64_t, T> as Ceph encodes it: a u32 count, then key/value
// pairs in increasing key order (anything else cannot come from a map).
template <typename T, typename DecodeValue>
Result<std::vector<T>> decode_map(CephReader& in, const char* what, DecodeValue decode_value)
{
    XO_TRY(count, in.u32(what));
    std::vector<T> out; // no reserve: the count is not trusted, truncation ends the loop
    std::uint64_t last_key = 0;
    for (std::uint32_t i = 0; i < *count; ++i) {
        std::size_t at = in.offset();
        XO_TRY(key, in.u64(what));
        if (i > 0 && *key <= last_key)
            return Error{"corrupt " + std::string(what) + " at offset " + std::to_string(at) +
                         ": keys out of order"};
        last_key = *key;
        XO_TRY(value, decode_value(in, *key));
        out.push_back(std::move(*value));
    }
    return out;
}

} // namespace

Result<Manifest> decode_manifest(std::span<const std::uint8_t> xattr)
{
    CephReader in(xattr);
    XO_TRY(s, in.begin_struct("RGWObjManifest", 7, 7));
    CephReader& m = s->body;
    Manifest out;
    XO_TRY(obj_size, m.u64("RGWObjManifest.obj_size"));
    out.obj_size = *obj_size;
    XO_TRY(objs, decode_map<ExplicitPart>(m, "RGWObjManifest.objs", decode_part));
    out.objs = std::move(*objs);
    XO_TRY(explicit_objs, m.boolean("RGWObjManifest.explicit_objs"));
    out.explicit_objs = *explicit_objs;
    XO_TRY(obj, decode_obj(m));
    out.obj = std::move(*obj);
    XO_TRY(head_size, m.u64("RGWObjManifest.head_size"));
    out.head_size = *head_size;
    XO_TRY(max_head_size, m.u64("RGWObjManifest.max_head_size"));
    out.max_head_size = *max_head_size;
    XO_TRY(prefix, m.string("RGWObjManifest.prefix", kMaxString));
    out.prefix = std::move(*prefix);
    XO_TRY(rules, decode_map<Rule>(m, "RGWObjManifest.rules", decode_rule));
    out.rules = std::move(*rules);

    XO_TRY(has_tail_bucket, m.boolean("RGWObjManifest tail bucket flag"));
    if (*has_tail_bucket) {
        XO_TRY(tail_bucket, decode_bucket(m));
        out.tail_bucket = std::move(*tail_bucket);
    } else {
        out.tail_bucket = out.obj.bucket;
    }
    XO_TRY(has_tail_instance, m.boolean("RGWObjManifest tail instance flag"));
    if (*has_tail_instance) {
        XO_TRY(tail_instance, m.string("RGWObjManifest.tail_instance", kMaxString));
        out.tail_instance = std::move(*tail_instance);
    } else {
        out.tail_instance = out.obj.key.instance;
    }
    // rgw_placement_rule is encoded as its string form, without a header.
    XO_TRY(head_rule, m.string("RGWObjManifest.head_placement_rule", kMaxString));
    out.head_placement_rule = std::move(*head_rule);
    XO_TRY(tail_rule, m.string("RGWObjManifest.tail_placement_rule", kMaxString));
    out.tail_placement_rule = std::move(*tail_rule);
    XO_TRY(body_done, m.end("RGWObjManifest"));
    XO_TRY(done, in.end("user.rgw.manifest xattr"));
    return out;
}

} // namespace xo::rgw

#undef XO_TRY
