// The responder's vet rules (osd_xo/vet.h) over fake xattr maps. Manifests
// are the golden ones radosgw 16.2 wrote (qa/unit/fixtures/rgw_manifest).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "osd_xo/vet.h"

namespace {

using xo::handoff::ServePlan;
using xo::rsp::vet_head;
using xo::rsp::XattrMap;

constexpr std::uint64_t MiB = 1 << 20;
const std::string kPool = "default.rgw.buckets.data";
const std::string kMarker = "2b857839-44cc-4e02-af4e-d0c120c4c259.4112.1";

std::string fixture(const std::string& name)
{
    std::ifstream in(std::string(XO_MANIFEST_FIXTURES) + "/" + name + ".hex");
    std::string hex, out;
    in >> hex;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

/** A plan for the "big" golden object (9 MiB + 123, a 4 MiB head and two stripes). */
xo::handoff::ServePlan big_plan()
{
    xo::handoff::ServePlan p;
    p.pool = kPool;
    p.oid = kMarker + "_big";
    p.etag = "0123456789abcdef0123456789abcdef";
    p.object_size = 9 * MiB + 123;
    p.first = 0;
    p.length = p.object_size;
    return p;
}

XattrMap clean_head()
{
    return XattrMap{{"user.rgw.etag", "0123456789abcdef0123456789abcdef"},
                    {"user.rgw.manifest", fixture("big")},
                    {"user.rgw.content_type", std::string("application/octet-stream\0", 25)},
                    {"user.rgw.storage_class", std::string("STANDARD\0", 9)},
                    {"user.rgw.acl", "opaque"}};
}

std::string refusal(const XattrMap& xattrs, const xo::handoff::ServePlan& plan = big_plan())
{
    auto r = vet_head(xattrs, plan);
    EXPECT_FALSE(r.ok()) << "expected a refusal";
    return r.ok() ? "" : r.error().message;
}

TEST(ResponderVet, CleanHeadGivesTheManifestExtents)
{
    auto r = vet_head(clean_head(), big_plan());
    ASSERT_TRUE(r.ok()) << r.error().message;
    std::vector<xo::rgw::Extent> e;
    while (auto next = r->next())
        e.push_back(*next);
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0].oid, kMarker + "_big");
    EXPECT_EQ(e[2].logical_offset + e[2].length, 9 * MiB + 123);
}

TEST(ResponderVet, EtagWithTrailingNulMatches)
{
    auto x = clean_head();
    x["user.rgw.etag"] += '\0';
    EXPECT_TRUE(vet_head(x, big_plan()).ok());
}

TEST(ResponderVet, MultipartEtagComparesWhole)
{
    auto x = clean_head();
    x["user.rgw.etag"] = "0123456789abcdef0123456789abcdef-3";
    EXPECT_NE(refusal(x).find("ETag"), std::string::npos);
}

TEST(ResponderVet, OtherEtagIsRefused)
{
    auto x = clean_head();
    x["user.rgw.etag"] = "ffffffffffffffffffffffffffffffff";
    EXPECT_NE(refusal(x).find("ETag"), std::string::npos);
}

TEST(ResponderVet, MissingEtagIsRefused)
{
    auto x = clean_head();
    x.erase("user.rgw.etag");
    EXPECT_NE(refusal(x).find("no ETag"), std::string::npos);
}

TEST(ResponderVet, CompressedIsRefused)
{
    auto x = clean_head();
    x["user.rgw.compression"] = "zlib";
    EXPECT_NE(refusal(x).find("compressed"), std::string::npos);
}

TEST(ResponderVet, AnyCryptXattrIsRefused)
{
    for (const char* name : {"user.rgw.crypt.mode", "user.rgw.crypt.keymd5", "user.rgw.crypt.kms.key_id"}) {
        auto x = clean_head();
        x[name] = "SSE-C-AES256";
        EXPECT_NE(refusal(x).find("encrypted"), std::string::npos) << name;
    }
}

TEST(ResponderVet, NeighboursOfTheCryptPrefixAreNotEncryption)
{
    auto x = clean_head();
    x["user.rgw.crypt"] = "not a crypt.* attribute";
    x["user.rgw.cryptz"] = "neither";
    x["user.rgw.x-amz-meta-crypt.mode"] = "user metadata";
    EXPECT_TRUE(vet_head(x, big_plan()).ok());
}

TEST(ResponderVet, StorageClassOtherThanStandardIsRefused)
{
    auto x = clean_head();
    x["user.rgw.storage_class"] = std::string("COLD\0", 5);
    EXPECT_NE(refusal(x).find("storage class COLD"), std::string::npos);
}

TEST(ResponderVet, NoStorageClassIsStandard)
{
    auto x = clean_head();
    x.erase("user.rgw.storage_class");
    EXPECT_TRUE(vet_head(x, big_plan()).ok());
}

TEST(ResponderVet, MissingManifestIsRefused)
{
    auto x = clean_head();
    x.erase("user.rgw.manifest");
    EXPECT_NE(refusal(x).find("no manifest"), std::string::npos);
}

TEST(ResponderVet, UndecodableManifestIsRefused)
{
    auto x = clean_head();
    x["user.rgw.manifest"] = std::string("\x09\x06\x10\x00\x00\x00garbage", 13);
    EXPECT_NE(refusal(x).find("unknown manifest"), std::string::npos);
    x["user.rgw.manifest"].resize(3);
    EXPECT_NE(refusal(x).find("unknown manifest"), std::string::npos);
}

TEST(ResponderVet, ManifestOfAnotherSizeIsRefused)
{
    auto plan = big_plan();
    plan.object_size += 1;
    EXPECT_NE(refusal(clean_head(), plan).find("manifest says"), std::string::npos);
}

TEST(ResponderVet, ManifestOfAnotherHeadIsRefused)
{
    auto plan = big_plan();
    plan.oid = kMarker + "_small";
    EXPECT_NE(refusal(clean_head(), plan).find("unknown manifest"), std::string::npos);
}

TEST(ResponderVet, ChecksRunInOrderOfWhatRadosgwReported)
{
    // A replaced object is reported as such even if it is also compressed.
    auto x = clean_head();
    x["user.rgw.etag"] = "other";
    x["user.rgw.compression"] = "zlib";
    EXPECT_NE(refusal(x).find("ETag"), std::string::npos);
}

} // namespace
