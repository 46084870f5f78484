// From a decoded manifest to RADOS extents (see rgw_manifest.h).
//
// Theory of operation: radosgw's reader (RGWObjManifest::obj_iterator) visits
// "stripes": the head, then for an implicit manifest the stripes each rule
// generates, or for an explicit manifest one stripe per listed object. This
// file produces the same sequence, but only for the manifest shapes where
// radosgw's own walk is well defined:
//   - a head of head_size bytes followed by one rule without parts
//     (a plain PUT: tail stripes k = 1, 2, ... of stripe_max_size), or
//   - no head and rules that tile the object with parts (multipart: part N
//     is cut into stripes k = 0, 1, ...; a rule applies from its start_ofs
//     and numbers its parts from start_part_num), or
//   - an explicit list of (offset → object, offset in it) entries.
// Anything else is refused, so a caller never reads bytes radosgw would not.
#include "rgw_manifest.h"

#include <algorithm>
#include <climits>

namespace xo::rgw {
namespace {

const std::string kShadowNs = "shadow";
const std::string kMultipartNs = "multipart";

// rgw_obj_key::get_oid(): "null" is the version id of an unversioned
// object in a versioned bucket and is not spelled out.
std::string key_oid(const ObjKey& key)
{
    bool with_instance = !key.instance.empty() && key.instance != "null";
    if (key.ns.empty() && !with_instance)
        return !key.name.empty() && key.name[0] == '_' ? "_" + key.name : key.name;
    std::string oid = "_" + key.ns;
    if (with_instance)
        oid += ":" + key.instance;
    return oid + "_" + key.name;
}

std::string with_marker(const Bucket& bucket, const std::string& name)
{
    return bucket.marker.empty() ? name : bucket.marker + "_" + name;
}

class ExtentList {
public:
    ExtentList(const HeadObject& head, std::size_t max) : head_(head), max_(max) {}

    Result<void> add(const RadosName& name, std::uint64_t rados_offset, std::uint64_t length,
                     std::uint64_t logical_offset)
    {
        if (out_.size() >= max_)
            return Error{"refused: the manifest describes more than " + std::to_string(max_) + " extents"};
        if (name.oid.empty())
            return Error{"corrupt manifest: the extent at " + std::to_string(logical_offset) + " names no object"};
        out_.push_back(Extent{head_.pool, head_.nspace, name.oid, name.locator, rados_offset, length, logical_offset});
        return {};
    }
    std::vector<Extent> take() { return std::move(out_); }

private:
    const HeadObject& head_;
    std::size_t max_;
    std::vector<Extent> out_;
};

// radosgw 16.2 leaves head_placement_rule empty on completed multipart
// uploads (their head holds no data); their tail rule is then the bucket's
// own placement, which also holds the head. A rule naming a storage class
// other than STANDARD ("<placement>/<class>") has its own data pool.
Result<void> check_same_pool(const Manifest& m)
{
    bool headless_standard = m.head_placement_rule.empty() && m.head_size == 0 &&
                             m.tail_placement_rule.find('/') == std::string::npos;
    if (m.tail_placement_rule != m.head_placement_rule && !headless_standard)
        return Error{"unsupported manifest: tail placement rule '" + m.tail_placement_rule +
                     "' differs from the head's '" + m.head_placement_rule + "'"};
    if (m.obj.bucket.explicit_placement || m.tail_bucket.explicit_placement)
        return Error{"unsupported manifest: bucket with explicit pool placement"};
    for (const ExplicitPart& p : m.objs)
        if (p.loc.bucket.explicit_placement)
            return Error{"unsupported manifest: explicit part in a bucket with explicit pool placement"};
    return {};
}

// RGWObjManifest::get_implicit_location() for a tail stripe.
Result<RadosName> tail_name(const Manifest& m, const Rule& rule, std::uint64_t part, std::uint64_t stripe)
{
    if (part > INT_MAX || stripe > INT_MAX)
        return Error{"refused manifest: part " + std::to_string(part) + " stripe " + std::to_string(stripe) +
                     " beyond what radosgw numbers"};
    ObjKey key;
    key.name = rule.override_prefix.empty() ? m.prefix : rule.override_prefix;
    key.instance = m.tail_instance;
    if (part == 0) {
        key.name += std::to_string(stripe);
        key.ns = kShadowNs;
    } else if (stripe == 0) {
        key.name += "." + std::to_string(part);
        key.ns = kMultipartNs;
    } else {
        key.name += "." + std::to_string(part) + "_" + std::to_string(stripe);
        key.ns = kShadowNs;
    }
    const Bucket& bucket = m.tail_bucket.name.empty() ? m.obj.bucket : m.tail_bucket;
    return RadosName{with_marker(bucket, key_oid(key)), ""};
}

RadosName head_name(const HeadObject& head)
{
    return RadosName{head.oid, head.locator};
}

// A plain PUT: head, then one rule's stripes numbered from 1.
Result<void> headed_extents(const Manifest& m, const HeadObject& head, ExtentList& out)
{
    if (auto r = out.add(head_name(head), 0, m.head_size, 0); !r)
        return r.error();
    if (m.obj_size == m.head_size)
        return {};
    if (m.rules.size() != 1)
        return Error{"unsupported manifest: a head and " + std::to_string(m.rules.size()) + " rules"};
    const Rule& rule = m.rules.front();
    if (rule.part_size != 0 || rule.start_part_num != 0)
        return Error{"unsupported manifest: a head followed by a multipart rule"};
    if (m.head_size != m.max_head_size)
        return Error{"unsupported manifest: head_size " + std::to_string(m.head_size) + " below max_head_size " +
                     std::to_string(m.max_head_size) + " with a tail"};
    std::uint64_t stripe = 1;
    for (std::uint64_t ofs = m.head_size; ofs < m.obj_size; ++stripe) {
        auto name = tail_name(m, rule, 0, stripe);
        if (!name)
            return name.error();
        std::uint64_t len = std::min(rule.stripe_max_size, m.obj_size - ofs);
        if (auto r = out.add(*name, 0, len, ofs); !r)
            return r.error();
        ofs += len;
    }
    return {};
}

// Multipart: no head; each rule cuts the object from its start_ofs into
// parts of part_size (0: up to the end), each part into stripes.
Result<void> part_extents(const Manifest& m, ExtentList& out)
{
    if (m.obj_size == 0)
        return {};
    if (m.rules.empty())
        return Error{"corrupt manifest: " + std::to_string(m.obj_size) + " bytes, no head and no rules"};
    if (m.max_head_size != 0)
        return Error{"unsupported manifest: no head but max_head_size " + std::to_string(m.max_head_size)};
    for (const Rule& rule : m.rules)
        if (rule.key != rule.start_ofs)
            return Error{"corrupt manifest: rule under key " + std::to_string(rule.key) + " starts at " +
                         std::to_string(rule.start_ofs)};
    if (m.rules.front().start_ofs != 0)
        return Error{"corrupt manifest: the first rule starts at " + std::to_string(m.rules.front().start_ofs)};

    std::size_t ri = 0;
    std::uint64_t part = m.rules.front().start_part_num;
    std::uint64_t part_start = 0;
    while (part_start < m.obj_size) {
        const Rule& rule = m.rules[ri];
        std::uint64_t left = m.obj_size - part_start;
        std::uint64_t part_len = rule.part_size == 0 ? left : std::min(rule.part_size, left);
        std::uint64_t stripe = 0;
        for (std::uint64_t done = 0; done < part_len; ++stripe) {
            auto name = tail_name(m, rule, part, stripe);
            if (!name)
                return name.error();
            std::uint64_t len = std::min(rule.stripe_max_size, part_len - done);
            if (auto r = out.add(*name, 0, len, part_start + done); !r)
                return r.error();
            done += len;
        }
        part_start += part_len;
        if (part_start == m.obj_size)
            break;
        if (ri + 1 < m.rules.size() && part_start >= m.rules[ri + 1].start_ofs) {
            if (part_start != m.rules[ri + 1].start_ofs)
                return Error{"corrupt manifest: a part ends at " + std::to_string(part_start) +
                             ", past the rule starting at " + std::to_string(m.rules[ri + 1].start_ofs)};
            ++ri;
            part = m.rules[ri].start_part_num;
        } else {
            ++part;
        }
    }
    return {};
}

// An explicit manifest: entry i covers [ofs_i, ofs_i+1) from its object at loc_ofs.
Result<void> explicit_extents(const Manifest& m, const HeadObject& head, ExtentList& out)
{
    if (m.obj_size == 0)
        return {};
    if (m.objs.empty() || m.objs.front().ofs != 0)
        return Error{"corrupt manifest: explicit object list does not start at offset 0"};
    for (std::size_t i = 0; i < m.objs.size(); ++i) {
        const ExplicitPart& p = m.objs[i];
        if (p.ofs >= m.obj_size)
            return Error{"corrupt manifest: explicit entry at " + std::to_string(p.ofs) + " beyond obj_size " +
                         std::to_string(m.obj_size)};
        std::uint64_t end = i + 1 < m.objs.size() ? m.objs[i + 1].ofs : m.obj_size;
        std::uint64_t len = std::min(end, m.obj_size) - p.ofs;
        if (p.loc_ofs > UINT64_MAX - len)
            return Error{"corrupt manifest: explicit entry at " + std::to_string(p.ofs) + " overflows its object"};
        // radosgw reads the first entry from the head whenever it names a
        // plain object and there is a head (its fix for Ceph issue 16435).
        bool is_head = i == 0 && m.head_size > 0 && p.loc.key.ns.empty() && !key_oid(p.loc.key).empty();
        if (auto r = out.add(is_head ? head_name(head) : rados_name(p.loc), p.loc_ofs, len, p.ofs); !r)
            return r.error();
    }
    return {};
}

} // namespace

RadosName rados_name(const Obj& obj)
{
    RadosName out{with_marker(obj.bucket, key_oid(obj.key)), ""};
    // rgw_obj_key::get_loc(): only plain keys starting with '_' have a locator.
    if (obj.key.ns.empty() && !obj.key.name.empty() && obj.key.name[0] == '_')
        out.locator = with_marker(obj.bucket, obj.key.name);
    return out;
}

Result<std::vector<Extent>> manifest_extents(const Manifest& manifest, const HeadObject& head,
                                             std::size_t max_extents)
{
    if (auto r = check_same_pool(manifest); !r)
        return r.error();
    RadosName named = rados_name(manifest.obj);
    if (named.oid != head.oid || named.locator != head.locator)
        return Error{"manifest names head '" + named.oid + "' (locator '" + named.locator + "'), not '" + head.oid +
                     "' (locator '" + head.locator + "')"};
    if (manifest.head_size > manifest.obj_size)
        return Error{"corrupt manifest: head_size " + std::to_string(manifest.head_size) + " above obj_size " +
                     std::to_string(manifest.obj_size)};
    for (const Rule& rule : manifest.rules)
        if (rule.stripe_max_size == 0)
            return Error{"corrupt manifest: rule at " + std::to_string(rule.key) + " has stripe_max_size 0"};

    ExtentList out(head, max_extents);
    Result<void> r = manifest.explicit_objs    ? explicit_extents(manifest, head, out)
                     : manifest.head_size > 0 ? headed_extents(manifest, head, out)
                                              : part_extents(manifest, out);
    if (!r)
        return r.error();
    return out.take();
}

} // namespace xo::rgw
