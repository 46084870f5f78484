// xo-manifest-dump: print the RADOS extents of an S3 object as JSON.
//
// Theory of operation: the oracle side of the manifest decoder's integration
// test. It reads the `user.rgw.manifest` xattr of a head object through
// librados (the cluster from CEPH_CONF, as client.admin), decodes it with
// common/rgw/rgw_manifest.h and prints the manifest's fields and the extents on
// stdout as one JSON object, so the test can compare them with
// `radosgw-admin object stat` and read the extents back.
//
// Usage: xo-manifest-dump <pool> <oid> [<locator> [<namespace>]]
// Exit status: 0 printed, 1 the xattr could not be read or decoded, 2 usage.
#include <rados/librados.hpp>

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "common/escape.h"
#include "common/rgw/rgw_manifest.h"

namespace {

using xo::Error;
using xo::Result;

std::string json_str(const std::string& s)
{
    std::string out;
    xo::append_json_string(out, s);
    return out;
}

/** read_manifest_xattr() - the head's manifest xattr, read through librados. */
Result<std::vector<std::uint8_t>> read_manifest_xattr(const xo::rgw::HeadObject& head)
{
    librados::Rados cluster;
    if (int r = cluster.init("admin"); r < 0)
        return Error::from_errno("rados init", -r);
    if (int r = cluster.conf_read_file(nullptr); r < 0)
        return Error::from_errno("reading the ceph config (CEPH_CONF)", -r);
    if (int r = cluster.connect(); r < 0)
        return Error::from_errno("connecting to the cluster", -r);
    librados::IoCtx io;
    if (int r = cluster.ioctx_create(head.pool.c_str(), io); r < 0)
        return Error::from_errno("opening pool " + head.pool, -r);
    io.set_namespace(head.nspace);
    io.locator_set_key(head.locator);
    librados::bufferlist bl;
    if (int r = io.getxattr(head.oid, xo::rgw::kManifestXattr, bl); r < 0)
        return Error::from_errno("reading " + std::string(xo::rgw::kManifestXattr) + " of " + head.oid, -r);
    std::vector<std::uint8_t> out(bl.length());
    bl.begin().copy(bl.length(), reinterpret_cast<char*>(out.data()));
    return out;
}

std::string to_json(const xo::rgw::Manifest& m, const std::vector<xo::rgw::Extent>& extents)
{
    std::string j = "{\"obj_size\": " + std::to_string(m.obj_size) + ", \"head_size\": " + std::to_string(m.head_size) +
                    ", \"max_head_size\": " + std::to_string(m.max_head_size) + ", \"prefix\": " + json_str(m.prefix) +
                    ", \"explicit_objs\": " + (m.explicit_objs ? "true" : "false") +
                    ", \"tail_instance\": " + json_str(m.tail_instance) +
                    ", \"head_placement_rule\": " + json_str(m.head_placement_rule) + ", \"rules\": [";
    for (std::size_t i = 0; i < m.rules.size(); ++i) {
        const auto& r = m.rules[i];
        j += (i ? ", " : "") + std::string("{\"key\": ") + std::to_string(r.key) +
             ", \"start_part_num\": " + std::to_string(r.start_part_num) + ", \"start_ofs\": " +
             std::to_string(r.start_ofs) + ", \"part_size\": " + std::to_string(r.part_size) +
             ", \"stripe_max_size\": " + std::to_string(r.stripe_max_size) +
             ", \"override_prefix\": " + json_str(r.override_prefix) + "}";
    }
    j += "], \"extents\": [";
    for (std::size_t i = 0; i < extents.size(); ++i) {
        const auto& e = extents[i];
        j += (i ? ",\n  " : "\n  ") + std::string("{\"pool\": ") + json_str(e.pool) + ", \"nspace\": " +
             json_str(e.nspace) + ", \"oid\": " + json_str(e.oid) + ", \"locator\": " + json_str(e.locator) +
             ", \"rados_offset\": " + std::to_string(e.rados_offset) + ", \"length\": " + std::to_string(e.length) +
             ", \"logical_offset\": " + std::to_string(e.logical_offset) + "}";
    }
    return j + "]}\n";
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3 || argc > 5) {
        std::cerr << "usage: " << argv[0] << " <pool> <oid> [<locator> [<namespace>]]\n";
        return 2;
    }
    xo::rgw::HeadObject head{argv[1], argc > 4 ? argv[4] : "", argv[2], argc > 3 ? argv[3] : ""};
    auto xattr = read_manifest_xattr(head);
    if (!xattr) {
        std::cerr << "xo-manifest-dump: " << xattr.error().message << "\n";
        return 1;
    }
    auto manifest = xo::rgw::decode_manifest(*xattr);
    if (!manifest) {
        std::cerr << "xo-manifest-dump: " << manifest.error().message << "\n";
        return 1;
    }
    auto extents = xo::rgw::manifest_extents(*manifest, head);
    if (!extents) {
        std::cerr << "xo-manifest-dump: " << extents.error().message << "\n";
        return 1;
    }
    std::cout << to_json(*manifest, *extents);
    return 0;
}
