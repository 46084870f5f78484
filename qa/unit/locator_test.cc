// The Locator's pure parts: the S3 name -> RADOS oid/locator mapping
// (rgw_oid.h), the bucket entrypoint decoder and the monitor-text parsers.
// The same mapping is checked against a live cluster by
// qa/integration/test_locator.py.
#include <gtest/gtest.h>

#include <string>

#include "rgw_xo/bucket_entrypoint.h"
#include "rgw_xo/osd_map_json.h"
#include "common/rgw/rgw_oid.h"

namespace {

using namespace std::string_literals;
using xo::rgw::head_object;

constexpr char marker[] = "7929f48e-3365-40c9-8056-cb35321ff372.4112.1";

TEST(HeadName, PlainKeyIsMarkerUnderscoreKey)
{
    auto head = head_object(marker, "photo.jpg", "");
    ASSERT_TRUE(head.ok()) << head.error().message;
    EXPECT_EQ(head->oid, marker + "_photo.jpg"s);
    EXPECT_EQ(head->locator, "");
    EXPECT_EQ(head->placement_name(), head->oid);
}

TEST(HeadName, SlashesSpacesAndUnicodeAreVerbatim)
{
    const std::string key = "a dir/sub dir/f\xc3\xa9 \xe2\x9c\x93 .txt";
    auto head = head_object(marker, key, "");
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->oid, marker + "_"s + key);
    EXPECT_EQ(head->locator, "");
}

TEST(HeadName, LeadingUnderscoreIsEscapedAndGetsLocator)
{
    auto head = head_object(marker, "_under", "");
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->oid, marker + "___under"s);
    EXPECT_EQ(head->locator, marker + "__under"s);
    EXPECT_EQ(head->placement_name(), head->locator);
}

TEST(HeadName, UnderscoreOnlyInsideKeyIsNotEscaped)
{
    auto head = head_object(marker, "a_b_", "");
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->oid, marker + "_a_b_"s);
    EXPECT_EQ(head->locator, "");
}

TEST(HeadName, VersionInstanceIsEncoded)
{
    auto head = head_object(marker, "k/v", "Xw2sBLZqHQ0KJ9pt");
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->oid, marker + "__:Xw2sBLZqHQ0KJ9pt_k/v"s);
    EXPECT_EQ(head->locator, "");
}

TEST(HeadName, VersionedUnderscoreKeyKeepsUnversionedLocator)
{
    auto head = head_object(marker, "_k", "v1");
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->oid, marker + "__:v1__k"s);
    EXPECT_EQ(head->locator, marker + "__k"s);
}

TEST(HeadName, NullVersionIsTheUnversionedInstance)
{
    auto null_version = head_object(marker, "_k", "null");
    auto no_version = head_object(marker, "_k", "");
    ASSERT_TRUE(null_version.ok() && no_version.ok());
    EXPECT_EQ(null_version->oid, no_version->oid);
    EXPECT_EQ(null_version->locator, no_version->locator);
}

TEST(HeadName, EmptyKeyOrMarkerIsAnError)
{
    EXPECT_FALSE(head_object(marker, "", "").ok());
    EXPECT_FALSE(head_object("", "k", "").ok());
}

// ---------------------------------------------------------------- entrypoint

std::string le32(uint32_t v)
{
    return {char(v & 0xff), char((v >> 8) & 0xff), char((v >> 16) & 0xff), char(v >> 24)};
}

std::string str(const std::string& s) { return le32(uint32_t(s.size())) + s; }

std::string framed(uint8_t v, uint8_t compat, const std::string& payload)
{
    return std::string{char(v), char(compat)} + le32(uint32_t(payload.size())) + payload;
}

// The shape of an entrypoint radosgw 16.2 wrote (see bucket_entrypoint.h),
// with trailing members we do not read.
std::string entrypoint(uint8_t v = 10, uint8_t compat = 8, uint8_t bucket_v = 10, uint8_t bucket_compat = 10)
{
    const std::string bucket =
        framed(bucket_v, bucket_compat, str("bk1") + str(marker) + str(marker) + str("") + "\0"s);
    return framed(v, compat, bucket + str("xo-test") + "\x01"s + "12345678");
}

TEST(BucketEntrypoint, DecodesNameMarkerIdTenant)
{
    auto id = xo::rgw::decode_bucket_entrypoint(entrypoint());
    ASSERT_TRUE(id.ok()) << id.error().message;
    EXPECT_EQ(id->name, "bk1");
    EXPECT_EQ(id->marker, marker);
    EXPECT_EQ(id->bucket_id, marker);
    EXPECT_EQ(id->tenant, "");
}

TEST(BucketEntrypoint, RefusesUnknownOrOldEncodings)
{
    EXPECT_FALSE(xo::rgw::decode_bucket_entrypoint(entrypoint(10, 9)).ok());      // newer compat
    EXPECT_FALSE(xo::rgw::decode_bucket_entrypoint(entrypoint(7, 7)).ok());       // old entrypoint
    EXPECT_FALSE(xo::rgw::decode_bucket_entrypoint(entrypoint(10, 8, 9, 3)).ok()); // old rgw_bucket
    EXPECT_FALSE(xo::rgw::decode_bucket_entrypoint(entrypoint(10, 8, 11, 11)).ok());
}

TEST(BucketEntrypoint, RefusesEveryTruncation)
{
    const std::string full = entrypoint();
    // Everything up to the end of the tenant string is needed.
    const size_t needed = 6 + 6 + 4 + 3 + 2 * (4 + std::string(marker).size()) + 4;
    for (size_t n = 0; n < needed; ++n)
        EXPECT_FALSE(xo::rgw::decode_bucket_entrypoint(full.substr(0, n)).ok()) << "length " << n;
}

TEST(BucketEntrypoint, RefusesAnEmptyMarker)
{
    const std::string bucket = framed(10, 10, str("b") + str("") + str("") + str(""));
    EXPECT_FALSE(xo::rgw::decode_bucket_entrypoint(framed(10, 8, bucket)).ok());
}

// ---------------------------------------------------------------- monitor texts

TEST(OsdMapReply, ParsesEpochPgAndPrimary)
{
    auto pg = xo::rgw::parse_osd_map_reply(
        R"({"epoch":12,"pool":"default.rgw.buckets.data","pool_id":6,"objname":"x","raw_pgid":"6.d6d9af33",)"
        R"("pgid":"6.3","up":[1,2],"up_primary":1,"acting":[1,2],"acting_primary":1})");
    ASSERT_TRUE(pg.ok()) << pg.error().message;
    EXPECT_EQ(pg->epoch, 12u);
    EXPECT_EQ(pg->pgid, "6.3");
    EXPECT_EQ(pg->acting_primary, 1);
}

TEST(OsdMapReply, NoPrimaryOrBadJsonIsAnError)
{
    EXPECT_FALSE(xo::rgw::parse_osd_map_reply(R"({"epoch":3,"pgid":"6.3","acting_primary":-1})").ok());
    EXPECT_FALSE(xo::rgw::parse_osd_map_reply(R"({"epoch":3,"pgid":"6.3"})").ok());
    EXPECT_FALSE(xo::rgw::parse_osd_map_reply("{\"epoch\":").ok());
}

TEST(OsdDump, PublicHostOfEveryUpOsd)
{
    auto dump = xo::rgw::parse_osd_dump_addresses(
        R"({"epoch":14,"osds":[)"
        R"({"osd":0,"up":1,"public_addr":"198.18.0.10:6801/29533"},)"
        R"({"osd":1,"up":0,"public_addr":"198.18.0.11:6801/1"},)"
        R"({"osd":2,"up":1,"public_addr":"[fd00::2]:6801/7"}]})");
    ASSERT_TRUE(dump.ok()) << dump.error().message;
    EXPECT_EQ(dump->epoch, 14u);
    ASSERT_EQ(dump->host.size(), 2u);
    EXPECT_EQ(dump->host.at(0), "198.18.0.10");
    EXPECT_EQ(dump->host.at(2), "fd00::2");
}

TEST(OsdMapLog, EpochOnlyFromOsdmapLines)
{
    EXPECT_EQ(xo::rgw::osdmap_epoch_from_log("osdmap e13: 3 total, 3 up, 2 in"), 13u);
    EXPECT_EQ(xo::rgw::osdmap_epoch_from_log("osdmap e7"), 7u);
    EXPECT_FALSE(xo::rgw::osdmap_epoch_from_log("osd.0 marked itself down").has_value());
    EXPECT_FALSE(xo::rgw::osdmap_epoch_from_log("osdmap e: x").has_value());
    EXPECT_FALSE(xo::rgw::osdmap_epoch_from_log("osdmap e12x").has_value());
}

TEST(JsonUtf8, KeepsUtf8EscapesQuotesAndControls)
{
    std::string out;
    xo::rgw::append_json_utf8(out, "\xc3\xa9 \"q\" \\ \n\x01");
    EXPECT_EQ(out, "\"\xc3\xa9 \\\"q\\\" \\\\ \\u000a\\u0001\"");
}

TEST(HostOfAddress, StripsPortAndNonce)
{
    EXPECT_EQ(*xo::rgw::host_of_address("198.18.0.12:6800"), "198.18.0.12");
    EXPECT_EQ(*xo::rgw::host_of_address("[::1]:6800/99"), "::1");
    EXPECT_FALSE(xo::rgw::host_of_address("198.18.0.12").ok());
}

} // namespace
