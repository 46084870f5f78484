// Byte ranges over manifest extents (osd_xo/range_slicer.h).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "range_slicer.h"

namespace {

using xo::rgw::Extent;
using xo::rsp::RangeSlicer;

constexpr std::uint64_t MiB = 1 << 20;

Extent ext(const std::string& oid, std::uint64_t length, std::uint64_t logical, const std::string& locator = "")
{
    return Extent{"pool", "", oid, locator, 0, length, logical};
}

/** A 9 MiB + 123 plain upload: 4 MiB head, a 4 MiB stripe, a short last stripe. */
std::vector<Extent> plain()
{
    return {ext("head", 4 * MiB, 0, "loc"), ext("shadow1", 4 * MiB, 4 * MiB), ext("shadow2", MiB + 123, 8 * MiB)};
}

/** A multipart upload: empty head, parts of 5 MiB, 1 MiB and 3 B (stripes of 4 MiB). */
std::vector<Extent> multipart()
{
    return {ext("mp.1", 4 * MiB, 0), ext("sh.1_1", MiB, 4 * MiB), ext("mp.2", MiB, 5 * MiB), ext("mp.3", 3, 6 * MiB)};
}

std::vector<Extent> all_pieces(const std::vector<Extent>& extents, std::uint64_t first, std::uint64_t length,
                               std::uint64_t max_piece)
{
    auto s = RangeSlicer::create(extents, first, length, max_piece);
    EXPECT_TRUE(s.ok()) << s.error().message;
    std::vector<Extent> out;
    if (!s)
        return out;
    while (auto p = s->next())
        out.push_back(*p);
    EXPECT_EQ(s->remaining(), 0u);
    return out;
}

/** Every piece lies in one extent at the matching RADOS offset, and they tile the range. */
void expect_tiles(const std::vector<Extent>& extents, const std::vector<Extent>& pieces, std::uint64_t first,
                  std::uint64_t length, std::uint64_t max_piece)
{
    std::uint64_t at = first;
    for (const auto& p : pieces) {
        ASSERT_EQ(p.logical_offset, at);
        ASSERT_GT(p.length, 0u);
        ASSERT_LE(p.length, max_piece);
        const Extent* home = nullptr;
        for (const auto& e : extents)
            if (e.oid == p.oid)
                home = &e;
        ASSERT_NE(home, nullptr) << p.oid;
        EXPECT_EQ(p.locator, home->locator);
        EXPECT_EQ(p.rados_offset - home->rados_offset, p.logical_offset - home->logical_offset);
        EXPECT_LE(p.rados_offset + p.length, home->rados_offset + home->length);
        at += p.length;
    }
    EXPECT_EQ(at, first + length);
}

TEST(ResponderSlicer, WholeObjectInReadSizedPieces)
{
    auto e = plain();
    auto pieces = all_pieces(e, 0, 9 * MiB + 123, MiB);
    ASSERT_EQ(pieces.size(), 10u); // 4 + 4 + 2
    expect_tiles(e, pieces, 0, 9 * MiB + 123, MiB);
    EXPECT_EQ(pieces.back().oid, "shadow2");
    EXPECT_EQ(pieces.back().length, 123u);
    EXPECT_EQ(pieces.front().locator, "loc");
}

TEST(ResponderSlicer, RangeAcrossAStripeBoundary)
{
    auto e = plain();
    auto pieces = all_pieces(e, 3 * MiB + 5, 2 * MiB, 4 * MiB);
    ASSERT_EQ(pieces.size(), 2u);
    EXPECT_EQ(pieces[0].oid, "head");
    EXPECT_EQ(pieces[0].rados_offset, 3 * MiB + 5);
    EXPECT_EQ(pieces[0].length, MiB - 5);
    EXPECT_EQ(pieces[1].oid, "shadow1");
    EXPECT_EQ(pieces[1].rados_offset, 0u);
    EXPECT_EQ(pieces[1].length, MiB + 5);
}

TEST(ResponderSlicer, RangeInsideOneStripe)
{
    auto e = plain();
    auto pieces = all_pieces(e, 5 * MiB + 1, 1000, MiB);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].oid, "shadow1");
    EXPECT_EQ(pieces[0].rados_offset, MiB + 1);
    EXPECT_EQ(pieces[0].length, 1000u);
}

TEST(ResponderSlicer, LastByte)
{
    auto e = plain();
    auto pieces = all_pieces(e, 9 * MiB + 122, 1, MiB);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].oid, "shadow2");
    EXPECT_EQ(pieces[0].rados_offset, MiB + 122);
    EXPECT_EQ(pieces[0].length, 1u);
}

TEST(ResponderSlicer, FirstByteOfAStripe)
{
    auto e = plain();
    auto pieces = all_pieces(e, 8 * MiB, 1, MiB);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].oid, "shadow2");
    EXPECT_EQ(pieces[0].rados_offset, 0u);
}

TEST(ResponderSlicer, RangeWithinTheHeadOnly)
{
    auto e = plain();
    auto pieces = all_pieces(e, 100, 4 * MiB - 100, 4 * MiB);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].oid, "head");
    EXPECT_EQ(pieces[0].rados_offset, 100u);
    EXPECT_EQ(pieces[0].length, 4 * MiB - 100);
}

TEST(ResponderSlicer, EmptyRangeHasNoPieces)
{
    auto e = plain();
    EXPECT_TRUE(all_pieces(e, 4 * MiB, 0, MiB).empty());
}

TEST(ResponderSlicer, MultipartPartsOfUnevenSizes)
{
    auto e = multipart();
    auto pieces = all_pieces(e, 4 * MiB - 1, 2 * MiB + 4, 3 * MiB); // to the end
    expect_tiles(e, pieces, 4 * MiB - 1, 2 * MiB + 4, 3 * MiB);
    ASSERT_EQ(pieces.size(), 4u);
    EXPECT_EQ(pieces[0].oid, "mp.1");
    EXPECT_EQ(pieces[1].oid, "sh.1_1");
    EXPECT_EQ(pieces[2].oid, "mp.2");
    EXPECT_EQ(pieces[3].oid, "mp.3");
    EXPECT_EQ(pieces[3].length, 3u);
}

TEST(ResponderSlicer, RangeBeyondTheObjectIsAnError)
{
    auto e = plain();
    EXPECT_FALSE(RangeSlicer::create(e, 9 * MiB + 123, 1, MiB).ok());
    EXPECT_FALSE(RangeSlicer::create(e, 0, 9 * MiB + 124, MiB).ok());
    EXPECT_FALSE(RangeSlicer::create(e, ~std::uint64_t{0}, 2, MiB).ok()); // no overflow
    EXPECT_FALSE(RangeSlicer::create(e, 0, 1, 0).ok());
}

TEST(ResponderSlicer, HolesInTheExtentsAreAnError)
{
    auto e = plain();
    e[1].logical_offset += 1;
    EXPECT_FALSE(RangeSlicer::create(e, 0, 1, MiB).ok());
}

TEST(ResponderSlicer, RandomRangesTile)
{
    std::mt19937_64 rng(42);
    for (const auto& e : {plain(), multipart()}) {
        std::uint64_t size = e.back().logical_offset + e.back().length;
        for (int i = 0; i < 500; ++i) {
            std::uint64_t first = rng() % size;
            std::uint64_t length = 1 + rng() % (size - first);
            std::uint64_t piece = 1 + rng() % (5 * MiB);
            expect_tiles(e, all_pieces(e, first, length, piece), first, length, piece);
        }
    }
}

} // namespace
