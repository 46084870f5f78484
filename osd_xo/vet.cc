#include "osd_xo/vet.h"

#include <cstdint>
#include <span>

namespace xo::rsp {

rgw::HeadObject head_of(const handoff::ServePlan& plan)
{
    return rgw::HeadObject{plan.pool, plan.nspace, plan.oid, plan.locator};
}

std::string xattr_text(const std::string& raw)
{
    std::string text = raw;
    while (!text.empty() && text.back() == '\0')
        text.pop_back();
    return text;
}

namespace {

/** transforms() - a reason radosgw would not send the stored bytes as they are, or "". */
std::string transforms(const XattrMap& xattrs)
{
    if (xattrs.count(kCompressionXattr))
        return "object is compressed (radosgw decompresses it)";
    // Every crypt.* attribute (mode, keymd5, kms key id, ...) means server-side encryption.
    auto crypt = xattrs.lower_bound(kCryptXattrPrefix);
    if (crypt != xattrs.end() && crypt->first.rfind(kCryptXattrPrefix, 0) == 0)
        return "object is encrypted (" + crypt->first + "; radosgw decrypts it)";
    if (auto sc = xattrs.find(kStorageClassXattr); sc != xattrs.end()) {
        std::string cls = xattr_text(sc->second);
        if (cls != "STANDARD")
            return "storage class " + cls + " is not STANDARD";
    }
    return {};
}

} // namespace

Result<rgw::ExtentCursor> vet_head(const XattrMap& xattrs, const handoff::ServePlan& plan)
{
    auto etag = xattrs.find(kEtagXattr);
    if (etag == xattrs.end())
        return Error{"head object has no ETag", EPROTO};
    if (std::string have = xattr_text(etag->second); have != plan.etag)
        return Error{"ETag " + have + " is not the " + plan.etag + " radosgw reported (object replaced)", ESTALE};
    if (auto why = transforms(xattrs); !why.empty())
        return Error{why, EPROTO};

    auto raw = xattrs.find(rgw::kManifestXattr);
    if (raw == xattrs.end())
        return Error{"head object has no manifest", EPROTO};
    std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(raw->second.data()), raw->second.size());
    auto manifest = rgw::decode_manifest(bytes);
    if (!manifest)
        return with_context("unknown manifest", manifest.error());
    if (manifest->obj_size != plan.object_size)
        return Error{"manifest says " + std::to_string(manifest->obj_size) + " bytes, radosgw reported " +
                         std::to_string(plan.object_size),
                     ESTALE};
    auto extents = rgw::ExtentCursor::open(std::move(*manifest), head_of(plan));
    if (!extents)
        return with_context("unknown manifest", extents.error());
    return extents;
}

} // namespace xo::rsp
