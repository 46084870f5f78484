// From a decoded manifest to RADOS extents (see rgw_manifest.h).
//
// Theory of operation: radosgw's reader (RGWObjManifest::obj_iterator) visits
// "stripes": the head, then for an implicit manifest the stripes each rule
// generates, or for an explicit manifest one stripe per listed object. The
// ExtentCursor produces the same sequence, but only for the manifest shapes where
// radosgw's own walk is well defined:
//   - a head of head_size bytes followed by one rule without parts
//     (a plain PUT: tail stripes k = 1, 2, ... of stripe_max_size), or
//   - no head and rules that tile the object with parts (multipart: part N
//     is cut into stripes k = 0, 1, ...; a rule applies from its start_ofs
//     and numbers its parts from start_part_num), or
//   - an explicit list of (offset → object, offset in it) entries.
// Anything else is refused, so a caller never reads bytes radosgw would not.
//
// ExtentCursor::open() checks a shape with arithmetic on its rules alone: a
// plain PUT's stripes are evenly spaced, and each multipart rule becomes one
// run of equal parts (the last maybe shorter), so the position of every
// stripe follows from its run, part and stripe numbers, and seek() and
// next() only compute. The extent count is known before anything is made.
#include "common/rgw/rgw_manifest.h"

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

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b)
{
    return a / b + (a % b != 0);
}

Result<void> check_count(std::uint64_t count, std::size_t max)
{
    if (count > max)
        return Error{"refused: the manifest describes more than " + std::to_string(max) + " extents"};
    return {};
}

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

// radosgw numbers parts and stripes with ints.
Result<void> check_numbering(std::uint64_t part, std::uint64_t stripe)
{
    if (part > INT_MAX || stripe > INT_MAX)
        return Error{"refused manifest: part " + std::to_string(part) + " stripe " + std::to_string(stripe) +
                     " beyond what radosgw numbers"};
    return {};
}

// RGWObjManifest::get_implicit_location() for a tail stripe (numbers checked by the cursor's open()).
RadosName tail_name(const Manifest& m, const Rule& rule, std::uint64_t part, std::uint64_t stripe)
{
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

// An explicit manifest: entry i covers [ofs_i, ofs_i+1) of the object.
std::uint64_t listed_end(const Manifest& m, std::size_t i)
{
    return i + 1 < m.objs.size() ? std::min(m.objs[i + 1].ofs, m.obj_size) : m.obj_size;
}

// radosgw reads the first entry from the head whenever it names a plain
// object and there is a head (its fix for Ceph issue 16435).
RadosName listed_name(const Manifest& m, const HeadObject& head, std::size_t i)
{
    const ExplicitPart& p = m.objs[i];
    bool is_head = i == 0 && m.head_size > 0 && p.loc.key.ns.empty() && !key_oid(p.loc.key).empty();
    return is_head ? head_name(head) : rados_name(p.loc);
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

Result<ExtentCursor> ExtentCursor::open(Manifest manifest, const HeadObject& head, std::size_t max_extents)
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

    ExtentCursor c;
    c.manifest_ = std::move(manifest);
    c.head_ = head;
    c.layout_ = c.manifest_.explicit_objs    ? Layout::listed
                : c.manifest_.head_size > 0 ? Layout::headed
                                            : Layout::parts;
    Result<void> checked = c.layout_ == Layout::listed   ? c.check_listed(max_extents)
                           : c.layout_ == Layout::headed ? c.check_headed(max_extents)
                                                         : c.check_parts(max_extents);
    if (!checked)
        return checked.error();
    if (auto r = c.seek(0); !r)
        return r.error();
    return c;
}

// A plain PUT: head, then one rule's stripes numbered from 1.
Result<void> ExtentCursor::check_headed(std::size_t max_extents)
{
    const Manifest& m = manifest_;
    if (head_.oid.empty())
        return Error{"corrupt manifest: the extent at 0 names no object"};
    if (m.obj_size == m.head_size)
        return check_count(1, max_extents);
    if (m.rules.size() != 1)
        return Error{"unsupported manifest: a head and " + std::to_string(m.rules.size()) + " rules"};
    const Rule& rule = m.rules.front();
    if (rule.part_size != 0 || rule.start_part_num != 0)
        return Error{"unsupported manifest: a head followed by a multipart rule"};
    if (m.head_size != m.max_head_size)
        return Error{"unsupported manifest: head_size " + std::to_string(m.head_size) + " below max_head_size " +
                     std::to_string(m.max_head_size) + " with a tail"};
    std::uint64_t stripes = ceil_div(m.obj_size - m.head_size, rule.stripe_max_size);
    if (auto r = check_count(stripes + 1, max_extents); !r)
        return r;
    return check_numbering(0, stripes);
}

// Multipart: no head; each rule cuts the object from its start_ofs into
// parts of part_size (0: up to the end), each part into stripes. A rule
// hands over to the next exactly where one of its parts ends; a part that
// crosses the next rule's start is corrupt, unless it is the object's last
// (radosgw's walk then never reaches that rule).
Result<void> ExtentCursor::check_parts(std::size_t max_extents)
{
    const Manifest& m = manifest_;
    if (m.obj_size == 0)
        return {};
    if (m.rules.empty())
        return Error{"corrupt manifest: " + std::to_string(m.obj_size) + " bytes, no head and no rules"};
    if (m.max_head_size != 0)
        return Error{"unsupported manifest: no head but max_head_size " + std::to_string(m.max_head_size)};
    for (std::size_t i = 0; i < m.rules.size(); ++i) {
        const Rule& rule = m.rules[i];
        if (rule.key != rule.start_ofs)
            return Error{"corrupt manifest: rule under key " + std::to_string(rule.key) + " starts at " +
                         std::to_string(rule.start_ofs)};
        if (i > 0 && rule.start_ofs <= m.rules[i - 1].start_ofs)
            return Error{"corrupt manifest: rules out of order at " + std::to_string(rule.start_ofs)};
    }
    if (m.rules.front().start_ofs != 0)
        return Error{"corrupt manifest: the first rule starts at " + std::to_string(m.rules.front().start_ofs)};

    std::uint64_t total = 0, start = 0;
    for (std::size_t ri = 0; start < m.obj_size; ++ri) {
        const Rule& rule = m.rules[ri];
        const std::uint64_t p = rule.part_size;
        std::uint64_t end = m.obj_size;
        if (p != 0 && ri + 1 < m.rules.size() && m.rules[ri + 1].start_ofs < m.obj_size) {
            const std::uint64_t next = m.rules[ri + 1].start_ofs;
            const std::uint64_t crossing = start + (next - start) / p * p; // the part holding next starts here
            if (crossing == next)
                end = next;
            else if (p < m.obj_size - crossing)
                return Error{"corrupt manifest: a part ends at " + std::to_string(crossing + p) +
                             ", past the rule starting at " + std::to_string(next)};
        }
        const std::uint64_t span = end - start;
        const std::uint64_t parts = p == 0 ? 1 : ceil_div(span, p);
        const std::uint64_t last_len = p == 0 ? span : span - (parts - 1) * p;
        const std::uint64_t full_stripes = parts > 1 ? ceil_div(p, rule.stripe_max_size) : 0;
        const std::uint64_t last_stripes = ceil_div(last_len, rule.stripe_max_size);
        const std::uint64_t last_part = parts - 1 > INT_MAX ? UINT64_MAX : rule.start_part_num + (parts - 1);
        if (auto r = check_numbering(last_part, std::max(full_stripes, last_stripes) - 1); !r)
            return r;
        if (full_stripes != 0 && parts - 1 > (max_extents - total) / full_stripes)
            return check_count(UINT64_MAX, max_extents);
        total += (parts - 1) * full_stripes;
        if (last_stripes > max_extents - total)
            return check_count(UINT64_MAX, max_extents);
        total += last_stripes;
        runs_.push_back(PartRun{ri, start, end, p, rule.start_part_num});
        start = end;
    }
    return {};
}

Result<void> ExtentCursor::check_listed(std::size_t max_extents)
{
    const Manifest& m = manifest_;
    if (m.obj_size == 0)
        return {};
    if (m.objs.empty() || m.objs.front().ofs != 0)
        return Error{"corrupt manifest: explicit object list does not start at offset 0"};
    for (std::size_t i = 0; i < m.objs.size(); ++i) {
        const ExplicitPart& p = m.objs[i];
        if (i > 0 && p.ofs <= m.objs[i - 1].ofs)
            return Error{"corrupt manifest: explicit entries out of order at " + std::to_string(p.ofs)};
        if (p.ofs >= m.obj_size)
            return Error{"corrupt manifest: explicit entry at " + std::to_string(p.ofs) + " beyond obj_size " +
                         std::to_string(m.obj_size)};
        std::uint64_t len = listed_end(m, i) - p.ofs;
        if (p.loc_ofs > UINT64_MAX - len)
            return Error{"corrupt manifest: explicit entry at " + std::to_string(p.ofs) + " overflows its object"};
        if (auto r = check_count(i + 1, max_extents); !r)
            return r;
        if (listed_name(m, head_, i).oid.empty())
            return Error{"corrupt manifest: the extent at " + std::to_string(p.ofs) + " names no object"};
    }
    return {};
}

Result<void> ExtentCursor::seek(std::uint64_t offset)
{
    const Manifest& m = manifest_;
    if (offset > m.obj_size)
        return Error{"offset " + std::to_string(offset) + " is beyond the object's " + std::to_string(m.obj_size) +
                         " bytes",
                     ERANGE};
    at_ = offset;
    if (offset == m.obj_size)
        return {};
    switch (layout_) {
    case Layout::headed:
        if (offset < m.head_size) {
            index_ = 0;
            at_ = 0;
        } else {
            const std::uint64_t stripe = m.rules.front().stripe_max_size;
            index_ = 1 + (offset - m.head_size) / stripe;
            at_ = m.head_size + (index_ - 1) * stripe;
        }
        break;
    case Layout::listed: {
        // The last entry starting at or before @offset (the first starts at 0).
        auto it = std::upper_bound(m.objs.begin(), m.objs.end(), offset,
                                   [](std::uint64_t ofs, const ExplicitPart& p) { return ofs < p.ofs; });
        index_ = static_cast<std::uint64_t>(it - m.objs.begin()) - 1;
        at_ = m.objs[index_].ofs;
        break;
    }
    case Layout::parts: {
        auto it = std::upper_bound(runs_.begin(), runs_.end(), offset,
                                   [](std::uint64_t ofs, const PartRun& r) { return ofs < r.start; });
        run_ = static_cast<std::size_t>(it - runs_.begin()) - 1;
        const PartRun& r = runs_[run_];
        const std::uint64_t j = r.part_size == 0 ? 0 : (offset - r.start) / r.part_size;
        part_ = r.first_part + j;
        part_start_ = r.start + j * r.part_size;
        const std::uint64_t stripe = m.rules[r.rule].stripe_max_size;
        stripe_ = (offset - part_start_) / stripe;
        at_ = part_start_ + stripe_ * stripe;
        break;
    }
    }
    return {};
}

std::uint64_t ExtentCursor::part_end() const
{
    const PartRun& r = runs_[run_];
    return r.part_size == 0 || r.end - part_start_ <= r.part_size ? r.end : part_start_ + r.part_size;
}

std::optional<Extent> ExtentCursor::next()
{
    const Manifest& m = manifest_;
    if (at_ >= m.obj_size)
        return std::nullopt;
    Extent e{head_.pool, head_.nspace, "", "", 0, 0, at_};
    RadosName name;
    switch (layout_) {
    case Layout::headed:
        if (index_ == 0) {
            name = head_name(head_);
            e.length = m.head_size;
        } else {
            const Rule& rule = m.rules.front();
            name = tail_name(m, rule, 0, index_);
            e.length = std::min(rule.stripe_max_size, m.obj_size - at_);
        }
        ++index_;
        break;
    case Layout::listed:
        name = listed_name(m, head_, index_);
        e.rados_offset = m.objs[index_].loc_ofs;
        e.length = listed_end(m, index_) - at_;
        ++index_;
        break;
    case Layout::parts: {
        const Rule& rule = m.rules[runs_[run_].rule];
        const std::uint64_t end = part_end();
        name = tail_name(m, rule, part_, stripe_);
        e.length = std::min(rule.stripe_max_size, end - at_);
        ++stripe_;
        if (at_ + e.length == end) { // the part is done: the next one, maybe of the next run
            stripe_ = 0;
            part_start_ = end;
            if (end != runs_[run_].end)
                ++part_;
            else if (++run_ < runs_.size())
                part_ = runs_[run_].first_part;
        }
        break;
    }
    }
    e.oid = std::move(name.oid);
    e.locator = std::move(name.locator);
    at_ += e.length;
    return e;
}

Result<std::vector<Extent>> manifest_extents(const Manifest& manifest, const HeadObject& head,
                                             std::size_t max_extents)
{
    auto cursor = ExtentCursor::open(manifest, head, max_extents);
    if (!cursor)
        return cursor.error();
    std::vector<Extent> out;
    while (auto e = cursor->next())
        out.push_back(std::move(*e));
    return out;
}

} // namespace xo::rgw
