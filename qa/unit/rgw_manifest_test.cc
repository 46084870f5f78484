// Tests of the user.rgw.manifest decoder (common/rgw/rgw_manifest.h).
//
// Golden inputs are manifests radosgw 16.2 wrote on a test cluster
// (qa/unit/fixtures/rgw_manifest/<name>.hex, the xattr in hex); the expected
// extents were checked there: read back with librados, they gave the S3
// object's bytes. multipart.hex has parts of 5 MiB, 7 MiB, 1 MiB and 3 B,
// captured with rgw_multipart_min_part_size lowered to allow the 1 MiB middle
// part (a part shorter than a stripe). Shapes radosgw writes rarely (explicit
// object lists) and damaged input are built with a small encoder of Ceph's
// format in this file.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "common/rgw/rgw_manifest.h"

namespace {

using xo::rgw::Extent;
using xo::rgw::HeadObject;
using xo::rgw::Manifest;

constexpr std::uint64_t MiB = 1 << 20;
const std::string kPool = "default.rgw.buckets.data";
const std::string kMarker1 = "2b857839-44cc-4e02-af4e-d0c120c4c259.4112.1"; // bucket mfcap
const std::string kMarker2 = "2b857839-44cc-4e02-af4e-d0c120c4c259.4112.2"; // bucket mfcapv (versioned)

std::vector<std::uint8_t> fixture(const std::string& name)
{
    std::ifstream in(std::string(XO_MANIFEST_FIXTURES) + "/" + name + ".hex");
    std::string hex;
    in >> hex;
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

HeadObject head(const std::string& oid, const std::string& locator = "")
{
    return HeadObject{kPool, "", oid, locator};
}

// Encoder for Ceph's format, the mirror image of the decoder, for building inputs.
class Enc {
public:
    Enc& u8(std::uint8_t v) { return le(v, 1); }
    Enc& u32(std::uint32_t v) { return le(v, 4); }
    Enc& u64(std::uint64_t v) { return le(v, 8); }
    Enc& str(const std::string& s)
    {
        u32(static_cast<std::uint32_t>(s.size()));
        out.insert(out.end(), s.begin(), s.end());
        return *this;
    }
    Enc& bytes(const std::vector<std::uint8_t>& b)
    {
        out.insert(out.end(), b.begin(), b.end());
        return *this;
    }
    /** versioned() - ENCODE_START(v, compat) around @body. */
    Enc& versioned(std::uint8_t v, std::uint8_t compat, const Enc& body)
    {
        u8(v).u8(compat).u32(static_cast<std::uint32_t>(body.out.size()));
        return bytes(body.out);
    }
    std::vector<std::uint8_t> out;

private:
    Enc& le(std::uint64_t v, int n)
    {
        for (int i = 0; i < n; ++i)
            out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        return *this;
    }
};

Enc enc_bucket(const xo::rgw::Bucket& b)
{
    Enc e;
    e.str(b.name).str(b.marker).str(b.bucket_id).str(b.tenant).u8(b.explicit_placement ? 1 : 0);
    if (b.explicit_placement)
        for (const char* pool : {"data", "extra", "index"})
            e.versioned(10, 10, Enc().str(pool).str(""));
    return Enc().versioned(10, 10, e);
}

Enc enc_obj(const xo::rgw::Obj& o)
{
    Enc e;
    e.bytes(enc_bucket(o.bucket).out).str(o.key.ns).str(o.key.name).str(o.key.instance);
    return Enc().versioned(6, 6, e);
}

std::vector<std::uint8_t> encode(const Manifest& m)
{
    Enc e;
    e.u64(m.obj_size).u32(static_cast<std::uint32_t>(m.objs.size()));
    for (const auto& p : m.objs) {
        Enc part;
        part.bytes(enc_obj(p.loc).out).u64(p.loc_ofs).u64(p.size);
        e.u64(p.ofs).versioned(2, 2, part);
    }
    e.u8(m.explicit_objs ? 1 : 0).bytes(enc_obj(m.obj).out).u64(m.head_size).u64(m.max_head_size).str(m.prefix);
    e.u32(static_cast<std::uint32_t>(m.rules.size()));
    for (const auto& r : m.rules) {
        Enc rule;
        rule.u32(r.start_part_num).u64(r.start_ofs).u64(r.part_size).u64(r.stripe_max_size).str(r.override_prefix);
        e.u64(r.key).versioned(2, 1, rule);
    }
    bool tail_bucket = !(m.tail_bucket.name == m.obj.bucket.name && m.tail_bucket.marker == m.obj.bucket.marker &&
                         m.tail_bucket.bucket_id == m.obj.bucket.bucket_id &&
                         m.tail_bucket.tenant == m.obj.bucket.tenant &&
                         m.tail_bucket.explicit_placement == m.obj.bucket.explicit_placement);
    e.u8(tail_bucket ? 1 : 0);
    if (tail_bucket)
        e.bytes(enc_bucket(m.tail_bucket).out);
    bool tail_instance = m.tail_instance != m.obj.key.instance;
    e.u8(tail_instance ? 1 : 0);
    if (tail_instance)
        e.str(m.tail_instance);
    e.str(m.head_placement_rule).str(m.tail_placement_rule);
    return Enc().versioned(7, 6, e).out;
}

Manifest decode_ok(const std::vector<std::uint8_t>& bytes)
{
    auto m = xo::rgw::decode_manifest(bytes);
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
    return m.ok() ? *m : Manifest{};
}

std::vector<Extent> extents_ok(const Manifest& m, const HeadObject& h)
{
    auto e = xo::rgw::manifest_extents(m, h);
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
    return e.ok() ? *e : std::vector<Extent>{};
}

struct Want {
    std::string oid;
    std::string locator;
    std::uint64_t length;
    std::uint64_t logical_offset;
};

void expect_extents(const std::vector<Extent>& got, const std::vector<Want>& want)
{
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        SCOPED_TRACE("extent " + std::to_string(i));
        EXPECT_EQ(got[i].pool, kPool);
        EXPECT_EQ(got[i].nspace, "");
        EXPECT_EQ(got[i].oid, want[i].oid);
        EXPECT_EQ(got[i].locator, want[i].locator);
        EXPECT_EQ(got[i].rados_offset, 0u);
        EXPECT_EQ(got[i].length, want[i].length);
        EXPECT_EQ(got[i].logical_offset, want[i].logical_offset);
    }
}

// --- golden manifests -------------------------------------------------------

TEST(RgwManifestGolden, SmallObjectIsItsHead)
{
    Manifest m = decode_ok(fixture("small"));
    EXPECT_EQ(m.obj_size, 1000u);
    EXPECT_EQ(m.head_size, 1000u);
    EXPECT_EQ(m.max_head_size, 4 * MiB);
    EXPECT_EQ(m.obj.bucket.name, "mfcap");
    EXPECT_EQ(m.obj.key.name, "small");
    EXPECT_EQ(m.head_placement_rule, "default-placement");
    expect_extents(extents_ok(m, head(kMarker1 + "_small")), {{kMarker1 + "_small", "", 1000, 0}});
}

TEST(RgwManifestGolden, ExactlyFourMiBHasNoTail)
{
    Manifest m = decode_ok(fixture("exact4m"));
    expect_extents(extents_ok(m, head(kMarker1 + "_exact4m")), {{kMarker1 + "_exact4m", "", 4 * MiB, 0}});
}

TEST(RgwManifestGolden, EmptyObjectHasNoExtents)
{
    Manifest m = decode_ok(fixture("zero"));
    EXPECT_EQ(m.obj_size, 0u);
    EXPECT_TRUE(extents_ok(m, head(kMarker1 + "_zero")).empty());
}

TEST(RgwManifestGolden, LargePutHasShadowStripes)
{
    Manifest m = decode_ok(fixture("big"));
    EXPECT_EQ(m.obj_size, 9 * MiB + 123);
    EXPECT_EQ(m.prefix, ".udSdphObctNah1kKn7Kt83yoo_sikmR_");
    ASSERT_EQ(m.rules.size(), 1u);
    EXPECT_EQ(m.rules[0].key, 0u);
    EXPECT_EQ(m.rules[0].start_ofs, 4 * MiB);
    EXPECT_EQ(m.rules[0].part_size, 0u);
    EXPECT_EQ(m.rules[0].stripe_max_size, 4 * MiB);
    const std::string shadow = kMarker1 + "__shadow_.udSdphObctNah1kKn7Kt83yoo_sikmR_";
    expect_extents(extents_ok(m, head(kMarker1 + "_big")), {{kMarker1 + "_big", "", 4 * MiB, 0},
                                                            {shadow + "1", "", 4 * MiB, 4 * MiB},
                                                            {shadow + "2", "", MiB + 123, 8 * MiB}});
}

TEST(RgwManifestGolden, UnderscoreKeyHeadHasLocatorTailHasNone)
{
    Manifest m = decode_ok(fixture("underscore"));
    EXPECT_EQ(m.obj.key.name, "_under/score");
    expect_extents(extents_ok(m, head(kMarker1 + "___under/score", kMarker1 + "__under/score")),
                   {{kMarker1 + "___under/score", kMarker1 + "__under/score", 4 * MiB, 0},
                    {kMarker1 + "__shadow_.Ix3XeAmjqGk8K2qM78qcWddlW68Amtl_1", "", MiB, 4 * MiB}});
}

TEST(RgwManifestGolden, KeyWithSlashesAndSpacesIsVerbatim)
{
    Manifest m = decode_ok(fixture("spaces"));
    const std::string oid = kMarker1 + "_dir/with space/k e y";
    expect_extents(extents_ok(m, head(oid)), {{oid, "", 100, 0}});
}

TEST(RgwManifestGolden, MultipartWithUnevenParts)
{
    Manifest m = decode_ok(fixture("multipart"));
    EXPECT_EQ(m.obj_size, 13 * MiB + 3);
    EXPECT_EQ(m.head_size, 0u);
    EXPECT_EQ(m.head_placement_rule, "");
    EXPECT_EQ(m.tail_placement_rule, "default-placement");
    EXPECT_EQ(m.prefix, "multi.2~VVJ34ePAo_MVHrfqXN4vKe8LmaeMI83");
    ASSERT_EQ(m.rules.size(), 4u);
    EXPECT_EQ(m.rules[1].start_part_num, 2u);
    EXPECT_EQ(m.rules[1].part_size, 7 * MiB);
    const std::string mp = kMarker1 + "__multipart_multi.2~VVJ34ePAo_MVHrfqXN4vKe8LmaeMI83.";
    const std::string sh = kMarker1 + "__shadow_multi.2~VVJ34ePAo_MVHrfqXN4vKe8LmaeMI83.";
    expect_extents(extents_ok(m, head(kMarker1 + "_multi")), {{mp + "1", "", 4 * MiB, 0},
                                                              {sh + "1_1", "", MiB, 4 * MiB},
                                                              {mp + "2", "", 4 * MiB, 5 * MiB},
                                                              {sh + "2_1", "", 3 * MiB, 9 * MiB},
                                                              {mp + "3", "", MiB, 12 * MiB},
                                                              {mp + "4", "", 3, 13 * MiB}});
}

TEST(RgwManifestGolden, VersionedObjectNamesCarryTheInstance)
{
    Manifest m = decode_ok(fixture("versioned_v1"));
    EXPECT_EQ(m.obj.key.instance, "mEppob.J50WAP9Nu1Xs7w.Ct4kPN7s.");
    EXPECT_EQ(m.tail_instance, "mEppob.J50WAP9Nu1Xs7w.Ct4kPN7s.");
    const std::string oid = kMarker2 + "__:mEppob.J50WAP9Nu1Xs7w.Ct4kPN7s._v";
    expect_extents(extents_ok(m, head(oid)),
                   {{oid, "", 4 * MiB, 0},
                    {kMarker2 + "__shadow:mEppob.J50WAP9Nu1Xs7w.Ct4kPN7s._.u2Pz1lRrBEG3ITDhZee7zI5H5aLwHJA_1", "",
                     2 * MiB, 4 * MiB}});

    Manifest v2 = decode_ok(fixture("versioned_v2"));
    const std::string oid2 = kMarker2 + "__:pwyEzCsOgNJo70cPWbTnRR5iZGKa13r_v";
    expect_extents(extents_ok(v2, head(oid2)), {{oid2, "", 100, 0}});
}

TEST(RgwManifestGolden, VersionedUnderscoreKey)
{
    Manifest m = decode_ok(fixture("versioned_underscore"));
    const std::string oid = kMarker2 + "__:eROclUzegDb4R98H42VoHW45OO6PBYc__v";
    expect_extents(extents_ok(m, head(oid, kMarker2 + "__v")),
                   {{oid, kMarker2 + "__v", 4 * MiB, 0},
                    {kMarker2 + "__shadow:eROclUzegDb4R98H42VoHW45OO6PBYc_.hAV2ixUCxsdJXN8P0Yr2CJiIfJwVDJq_1", "",
                     MiB + 7, 4 * MiB}});
}

TEST(RgwManifestGolden, CopyIntoAnotherBucketKeepsTheSourceTail)
{
    // A server-side copy shares the tail: the manifest names the source
    // bucket and (empty) instance for it, the head is the new versioned object.
    Manifest m = decode_ok(fixture("copied_across_buckets"));
    EXPECT_EQ(m.obj.bucket.name, "mfcapv");
    EXPECT_EQ(m.tail_bucket.name, "mfcap");
    EXPECT_EQ(m.tail_instance, "");
    const std::string oid = kMarker2 + "__:hQkJX9frmgZpOBPJI98H4KTOUXegqty_xbig";
    const std::string shadow = kMarker1 + "__shadow_.udSdphObctNah1kKn7Kt83yoo_sikmR_";
    expect_extents(extents_ok(m, head(oid)), {{oid, "", 4 * MiB, 0},
                                              {shadow + "1", "", 4 * MiB, 4 * MiB},
                                              {shadow + "2", "", MiB + 123, 8 * MiB}});
}

TEST(RgwManifestGolden, ReencodesToTheSameBytes)
{
    for (const char* name : {"small", "exact4m", "zero", "big", "underscore", "spaces", "multipart", "versioned_v1",
                             "versioned_v2", "versioned_underscore", "copied_across_buckets"}) {
        SCOPED_TRACE(name);
        auto bytes = fixture(name);
        ASSERT_FALSE(bytes.empty());
        EXPECT_EQ(encode(decode_ok(bytes)), bytes);
    }
}

TEST(RgwManifestGolden, HeadIdentityMustMatchTheManifest)
{
    Manifest m = decode_ok(fixture("underscore"));
    auto no_locator = xo::rgw::manifest_extents(m, head(kMarker1 + "___under/score"));
    ASSERT_FALSE(no_locator.ok());
    EXPECT_NE(no_locator.error().message.find("manifest names head"), std::string::npos);
    EXPECT_FALSE(xo::rgw::manifest_extents(m, head(kMarker1 + "_small")).ok());
}

// --- damaged and unsupported input -----------------------------------------

TEST(RgwManifestInput, EveryTruncationIsAnError)
{
    for (const char* name : {"big", "multipart", "versioned_underscore"}) {
        auto bytes = fixture(name);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
            EXPECT_FALSE(xo::rgw::decode_manifest(cut).ok()) << name << " cut to " << n << " bytes";
        }
    }
}

std::string error_of(const std::vector<std::uint8_t>& bytes)
{
    auto m = xo::rgw::decode_manifest(bytes);
    return m.ok() ? "(decoded)" : m.error().message;
}

TEST(RgwManifestInput, UnknownManifestVersionsAreRefused)
{
    auto bytes = fixture("big");
    for (std::uint8_t v : {6, 8, 255}) {
        auto changed = bytes;
        changed[0] = v;
        EXPECT_NE(error_of(changed).find("unsupported RGWObjManifest"), std::string::npos) << int(v);
    }
}

TEST(RgwManifestInput, CompatAboveVersionIsCorrupt)
{
    auto bytes = fixture("big");
    bytes[1] = 8;
    EXPECT_NE(error_of(bytes).find("struct_compat"), std::string::npos);
}

TEST(RgwManifestInput, UnknownNestedVersionsAreRefused)
{
    auto bytes = fixture("big");
    // obj_size (8), objs count (4), explicit_objs (1): rgw_obj's header is at 6 + 13.
    ASSERT_EQ(bytes[19], 6);
    bytes[19] = 7;
    EXPECT_NE(error_of(bytes).find("unsupported rgw_obj"), std::string::npos);
}

TEST(RgwManifestInput, TrailingBytesAreRefused)
{
    auto outside = fixture("small");
    outside.push_back(0);
    EXPECT_NE(error_of(outside).find("after the last known field"), std::string::npos);

    // The same byte inside the structure: a newer encoder's extra field.
    auto inside = fixture("small");
    inside.push_back(0);
    inside[2] = static_cast<std::uint8_t>(inside[2] + 1); // struct_len, little-endian, no carry here
    ASSERT_NE(inside[2], 0);
    EXPECT_NE(error_of(inside).find("after the last known field"), std::string::npos);
}

TEST(RgwManifestInput, LengthPastTheEndIsTruncation)
{
    auto bytes = fixture("small");
    bytes[5] = 0x7f; // struct_len's top byte
    EXPECT_NE(error_of(bytes).find("truncated"), std::string::npos);
}

TEST(RgwManifestInput, BadBoolIsCorrupt)
{
    auto bytes = fixture("small");
    ASSERT_EQ(bytes[18], 0); // explicit_objs
    bytes[18] = 2;
    EXPECT_NE(error_of(bytes).find("bool"), std::string::npos);
}

TEST(RgwManifestInput, HugeStringLengthIsRefused)
{
    auto bytes = fixture("small");
    // rgw_bucket.name's length: after the rgw_obj header (6) and the rgw_bucket header (6).
    ASSERT_EQ(bytes[31], 5);
    bytes[31] = 0xff;
    bytes[32] = 0xff;
    EXPECT_NE(error_of(bytes).find("exceeds the limit"), std::string::npos);
}

// --- built manifests --------------------------------------------------------

Manifest base_manifest()
{
    Manifest m = decode_ok(fixture("big"));
    return m;
}

TEST(RgwManifestBuilt, ExplicitObjectList)
{
    Manifest m = base_manifest();
    m.explicit_objs = true;
    m.rules.clear();
    m.prefix.clear();
    m.obj_size = 10;
    xo::rgw::Obj tail = m.obj;
    tail.key = {"tailpiece", "shadow", ""};
    m.objs = {{0, m.obj, 0, 4}, {4, tail, 100, 6}};
    m.head_size = 4;
    m.max_head_size = 4;
    auto bytes = encode(m);
    Manifest back = decode_ok(bytes);
    ASSERT_EQ(back.objs.size(), 2u);
    auto e = extents_ok(back, head(kMarker1 + "_big"));
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].oid, kMarker1 + "_big");
    EXPECT_EQ(e[0].length, 4u);
    EXPECT_EQ(e[1].oid, kMarker1 + "__shadow_tailpiece");
    EXPECT_EQ(e[1].rados_offset, 100u);
    EXPECT_EQ(e[1].length, 6u);
    EXPECT_EQ(e[1].logical_offset, 4u);
}

TEST(RgwManifestBuilt, ExplicitListMustStartAtZero)
{
    Manifest m = base_manifest();
    m.explicit_objs = true;
    m.objs = {{5, m.obj, 0, 4}};
    auto e = xo::rgw::manifest_extents(decode_ok(encode(m)), head(kMarker1 + "_big"));
    EXPECT_FALSE(e.ok());
}

TEST(RgwManifestBuilt, OutOfOrderRulesAreCorrupt)
{
    Manifest m = decode_ok(fixture("multipart"));
    std::swap(m.rules[1], m.rules[2]);
    EXPECT_NE(error_of(encode(m)).find("out of order"), std::string::npos);
}

TEST(RgwManifestBuilt, OtherTailPlacementIsRefused)
{
    Manifest m = base_manifest();
    m.tail_placement_rule = "default-placement/COLD";
    auto e = xo::rgw::manifest_extents(decode_ok(encode(m)), head(kMarker1 + "_big"));
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().message.find("placement"), std::string::npos);

    Manifest b = base_manifest();
    b.tail_bucket.explicit_placement = true;
    EXPECT_FALSE(xo::rgw::manifest_extents(decode_ok(encode(b)), head(kMarker1 + "_big")).ok());
}

TEST(RgwManifestBuilt, HeadlessMultipartInAnotherStorageClassIsRefused)
{
    Manifest m = decode_ok(fixture("multipart"));
    m.tail_placement_rule = "default-placement/COLD";
    EXPECT_FALSE(xo::rgw::manifest_extents(m, head(kMarker1 + "_multi")).ok());
}

TEST(RgwManifestBuilt, TailBucketAndInstanceOverrides)
{
    Manifest m = base_manifest();
    m.tail_bucket.marker = "othermarker";
    m.tail_bucket.name = "other";
    m.tail_instance = "inst";
    auto e = extents_ok(decode_ok(encode(m)), head(kMarker1 + "_big"));
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[1].oid, "othermarker__shadow:inst_.udSdphObctNah1kKn7Kt83yoo_sikmR_1");
}

TEST(RgwManifestBuilt, ZeroStripeSizeIsCorrupt)
{
    Manifest m = base_manifest();
    m.rules[0].stripe_max_size = 0;
    EXPECT_FALSE(xo::rgw::manifest_extents(decode_ok(encode(m)), head(kMarker1 + "_big")).ok());
}

TEST(RgwManifestBuilt, ExtentCountIsBounded)
{
    Manifest m = base_manifest();
    m.obj_size = std::uint64_t{5} << 40; // 5 TiB in 4 MiB stripes: 1.3 million extents
    auto e = xo::rgw::manifest_extents(m, head(kMarker1 + "_big"), 1000);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().message.find("more than 1000 extents"), std::string::npos);
}

TEST(RgwManifestBuilt, HeadLargerThanObjectIsCorrupt)
{
    Manifest m = decode_ok(fixture("small"));
    m.head_size = m.obj_size + 1;
    EXPECT_FALSE(xo::rgw::manifest_extents(m, head(kMarker1 + "_small")).ok());
}

TEST(RgwManifestBuilt, PartOvershootingTheNextRuleIsCorrupt)
{
    Manifest m = decode_ok(fixture("multipart"));
    m.rules[0].part_size = 6 * MiB; // part 1 would end past rule 2's start at 5 MiB
    auto e = xo::rgw::manifest_extents(m, head(kMarker1 + "_multi"));
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().message.find("past the rule"), std::string::npos);
}

// --- the cursor: extents on demand -----------------------------------------

/** walk_from() - what a cursor seeking @offset yields, to the end. */
std::vector<Extent> walk_from(const Manifest& m, const HeadObject& h, std::uint64_t offset)
{
    auto c = xo::rgw::ExtentCursor::open(m, h);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    std::vector<Extent> out;
    if (!c)
        return out;
    auto sought = c->seek(offset);
    EXPECT_TRUE(sought.ok()) << (sought.ok() ? "" : sought.error().message);
    while (auto e = c->next())
        out.push_back(*e);
    return out;
}

/** expect_suffixes() - seeking any offset yields the whole walk from the extent holding it. */
void expect_suffixes(const Manifest& m, const HeadObject& h)
{
    const auto all = extents_ok(m, h);
    std::vector<std::uint64_t> offsets{0, m.obj_size};
    for (const auto& e : all)
        for (std::uint64_t d : {std::uint64_t{0}, std::uint64_t{1}, e.length / 2, e.length - 1})
            offsets.push_back(e.logical_offset + d);
    for (std::uint64_t offset : offsets) {
        if (offset > m.obj_size)
            continue;
        SCOPED_TRACE("offset " + std::to_string(offset));
        std::size_t k = 0;
        while (k < all.size() && all[k].logical_offset + all[k].length <= offset)
            ++k;
        auto got = walk_from(m, h, offset);
        ASSERT_EQ(got.size(), all.size() - k);
        for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_EQ(got[i].oid, all[k + i].oid);
            EXPECT_EQ(got[i].locator, all[k + i].locator);
            EXPECT_EQ(got[i].rados_offset, all[k + i].rados_offset);
            EXPECT_EQ(got[i].length, all[k + i].length);
            EXPECT_EQ(got[i].logical_offset, all[k + i].logical_offset);
        }
    }
}

TEST(RgwManifestCursor, SeekingAnyOffsetGivesTheRestOfTheWalk)
{
    expect_suffixes(decode_ok(fixture("big")), head(kMarker1 + "_big"));
    expect_suffixes(decode_ok(fixture("small")), head(kMarker1 + "_small"));
    expect_suffixes(decode_ok(fixture("zero")), head(kMarker1 + "_zero"));
    expect_suffixes(decode_ok(fixture("multipart")), head(kMarker1 + "_multi"));
    expect_suffixes(decode_ok(fixture("underscore")), head(kMarker1 + "___under/score", kMarker1 + "__under/score"));

    Manifest listed = base_manifest();
    listed.explicit_objs = true;
    listed.rules.clear();
    listed.obj_size = 10;
    xo::rgw::Obj tail = listed.obj;
    tail.key = {"tailpiece", "shadow", ""};
    listed.objs = {{0, listed.obj, 0, 4}, {4, tail, 100, 3}, {7, tail, 200, 3}};
    listed.head_size = listed.max_head_size = 4;
    expect_suffixes(listed, head(kMarker1 + "_big"));
}

TEST(RgwManifestCursor, ManyUnevenPartsAcrossRules)
{
    // Parts of 5 MiB (1-3), 6 MiB (4-5, stripes 4 + 2), then 1 MiB to the end (6-8, the last short).
    Manifest m = decode_ok(fixture("multipart"));
    m.obj_size = 27 * MiB + 2 * MiB + 5;
    m.rules = {{0, 1, 0, 5 * MiB, 4 * MiB, ""},
               {15 * MiB, 4, 15 * MiB, 6 * MiB, 4 * MiB, ""},
               {27 * MiB, 6, 27 * MiB, MiB, 4 * MiB, ""}};
    auto all = extents_ok(m, head(kMarker1 + "_multi"));
    const std::string mp = kMarker1 + "__multipart_multi.2~VVJ34ePAo_MVHrfqXN4vKe8LmaeMI83.";
    const std::string sh = kMarker1 + "__shadow_multi.2~VVJ34ePAo_MVHrfqXN4vKe8LmaeMI83.";
    ASSERT_EQ(all.size(), 13u);
    EXPECT_EQ(all[0].oid, mp + "1");
    EXPECT_EQ(all[1].oid, sh + "1_1");
    EXPECT_EQ(all[6].oid, mp + "4");
    EXPECT_EQ(all[7].oid, sh + "4_1");
    EXPECT_EQ(all[7].length, 2 * MiB);
    EXPECT_EQ(all[10].oid, mp + "6");
    EXPECT_EQ(all[10].logical_offset, 27 * MiB);
    EXPECT_EQ(all[12].oid, mp + "8");
    EXPECT_EQ(all[12].length, 5u);
    expect_suffixes(m, head(kMarker1 + "_multi"));
}

TEST(RgwManifestCursor, FiveTiBObjectIsNeverListed)
{
    // 1.3 million stripes: opening and seeking only compute.
    Manifest m = base_manifest();
    m.obj_size = std::uint64_t{5} << 40;
    auto c = xo::rgw::ExtentCursor::open(m, head(kMarker1 + "_big"));
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(c->seek(m.obj_size - 1).ok());
    auto last = c->next();
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->oid, kMarker1 + "__shadow_.udSdphObctNah1kKn7Kt83yoo_sikmR_" + std::to_string((5 << 18) - 1));
    EXPECT_EQ(last->logical_offset + last->length, m.obj_size);
    EXPECT_FALSE(c->next().has_value());
}

TEST(RgwManifestCursor, MultipartExtentCountIsBounded)
{
    Manifest m = decode_ok(fixture("multipart"));
    m.rules.resize(1);
    m.rules[0].part_size = MiB; // 1 MiB parts of one stripe each
    m.obj_size = 2000 * MiB;
    EXPECT_TRUE(xo::rgw::ExtentCursor::open(m, head(kMarker1 + "_multi"), 2000).ok());
    auto e = xo::rgw::ExtentCursor::open(m, head(kMarker1 + "_multi"), 1999);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().message.find("more than 1999 extents"), std::string::npos);
}

TEST(RgwManifestCursor, SeekBeyondTheObjectIsAnError)
{
    auto c = xo::rgw::ExtentCursor::open(decode_ok(fixture("big")), head(kMarker1 + "_big"));
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->seek(9 * MiB + 124).ok());
    ASSERT_TRUE(c->seek(9 * MiB + 123).ok());
    EXPECT_FALSE(c->next().has_value());
}

TEST(RgwManifestCursor, DefaultIsAnEmptyObject)
{
    xo::rgw::ExtentCursor c;
    EXPECT_EQ(c.object_size(), 0u);
    EXPECT_FALSE(c.next().has_value());
    EXPECT_TRUE(c.seek(0).ok());
    EXPECT_FALSE(c.seek(1).ok());
}

} // namespace
