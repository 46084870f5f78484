// Byte ranges over manifest extents (osd_xo/range_slicer.h).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "osd_xo/range_slicer.h"

namespace {

using xo::rgw::Extent;
using xo::rgw::ExtentCursor;
using xo::rgw::HeadObject;
using xo::rgw::Manifest;
using xo::rsp::RangeSlicer;

constexpr std::uint64_t MiB = 1 << 20;

/** struct Object - a manifest and the head it belongs to. */
struct Object {
    Manifest manifest;
    HeadObject head;

    ExtentCursor cursor() const
    {
        auto c = ExtentCursor::open(manifest, head);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? std::move(*c) : ExtentCursor();
    }
    std::vector<Extent> extents() const { return xo::rgw::manifest_extents(manifest, head).value(); }
};

Manifest named(std::uint64_t size, const std::string& key)
{
    Manifest m;
    m.obj_size = size;
    m.obj.bucket = {"b", "m", "m", "", false};
    m.obj.key.name = key;
    m.tail_bucket = m.obj.bucket;
    m.prefix = "x";
    return m;
}

/** A 9 MiB + 123 plain upload: 4 MiB head (a key with a locator), a 4 MiB stripe, a short last stripe. */
Object plain()
{
    Manifest m = named(9 * MiB + 123, "_head");
    m.head_size = m.max_head_size = 4 * MiB;
    m.rules = {{0, 0, 4 * MiB, 0, 4 * MiB, ""}};
    return {m, HeadObject{"pool", "", "m___head", "m__head"}};
}

/** A multipart upload: no head, parts of 5 MiB, 1 MiB and 3 B (stripes of 4 MiB). */
Object multipart()
{
    Manifest m = named(6 * MiB + 3, "mp");
    m.rules = {{0, 1, 0, 5 * MiB, 4 * MiB, ""}, {5 * MiB, 2, 5 * MiB, MiB, 4 * MiB, ""}};
    return {m, HeadObject{"pool", "", "m_mp", ""}};
}

std::vector<Extent> all_pieces(const Object& object, std::uint64_t first, std::uint64_t length,
                               std::uint64_t max_piece)
{
    auto s = RangeSlicer::create(object.cursor(), first, length, max_piece);
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
void expect_tiles(const Object& object, const std::vector<Extent>& pieces, std::uint64_t first,
                  std::uint64_t length, std::uint64_t max_piece)
{
    const auto extents = object.extents();
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
    EXPECT_EQ(pieces.back().oid, "m__shadow_x2");
    EXPECT_EQ(pieces.back().length, 123u);
    EXPECT_EQ(pieces.front().locator, "m__head");
    EXPECT_EQ(pieces.back().locator, "");
}

TEST(ResponderSlicer, RangeAcrossAStripeBoundary)
{
    auto e = plain();
    auto pieces = all_pieces(e, 3 * MiB + 5, 2 * MiB, 4 * MiB);
    ASSERT_EQ(pieces.size(), 2u);
    EXPECT_EQ(pieces[0].oid, "m___head");
    EXPECT_EQ(pieces[0].rados_offset, 3 * MiB + 5);
    EXPECT_EQ(pieces[0].length, MiB - 5);
    EXPECT_EQ(pieces[1].oid, "m__shadow_x1");
    EXPECT_EQ(pieces[1].rados_offset, 0u);
    EXPECT_EQ(pieces[1].length, MiB + 5);
}

TEST(ResponderSlicer, RangeInsideOneStripe)
{
    auto e = plain();
    auto pieces = all_pieces(e, 5 * MiB + 1, 1000, MiB);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].oid, "m__shadow_x1");
    EXPECT_EQ(pieces[0].rados_offset, MiB + 1);
    EXPECT_EQ(pieces[0].length, 1000u);
}

TEST(ResponderSlicer, LastByte)
{
    auto e = plain();
    auto pieces = all_pieces(e, 9 * MiB + 122, 1, MiB);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].oid, "m__shadow_x2");
    EXPECT_EQ(pieces[0].rados_offset, MiB + 122);
    EXPECT_EQ(pieces[0].length, 1u);
}

TEST(ResponderSlicer, FirstByteOfAStripe)
{
    auto e = plain();
    auto pieces = all_pieces(e, 8 * MiB, 1, MiB);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].oid, "m__shadow_x2");
    EXPECT_EQ(pieces[0].rados_offset, 0u);
}

TEST(ResponderSlicer, RangeWithinTheHeadOnly)
{
    auto e = plain();
    auto pieces = all_pieces(e, 100, 4 * MiB - 100, 4 * MiB);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].oid, "m___head");
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
    EXPECT_EQ(pieces[0].oid, "m__multipart_x.1");
    EXPECT_EQ(pieces[1].oid, "m__shadow_x.1_1");
    EXPECT_EQ(pieces[2].oid, "m__multipart_x.2");
    EXPECT_EQ(pieces[3].oid, "m__multipart_x.3");
    EXPECT_EQ(pieces[3].length, 3u);
}

TEST(ResponderSlicer, RangeBeyondTheObjectIsAnError)
{
    auto e = plain();
    EXPECT_FALSE(RangeSlicer::create(e.cursor(), 9 * MiB + 123, 1, MiB).ok());
    EXPECT_FALSE(RangeSlicer::create(e.cursor(), 0, 9 * MiB + 124, MiB).ok());
    EXPECT_FALSE(RangeSlicer::create(e.cursor(), ~std::uint64_t{0}, 2, MiB).ok()); // no overflow
    EXPECT_FALSE(RangeSlicer::create(e.cursor(), 0, 1, 0).ok());
}

TEST(ResponderSlicer, CursorAnywhereIsSought)
{
    // The cursor may have been walked past the range (the admission reads the head extent).
    auto e = plain();
    auto cursor = e.cursor();
    while (cursor.next()) {
    }
    auto s = RangeSlicer::create(std::move(cursor), 100, 10, MiB);
    ASSERT_TRUE(s.ok());
    auto p = s->next();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->oid, "m___head");
    EXPECT_EQ(p->rados_offset, 100u);
    EXPECT_EQ(p->length, 10u);
    EXPECT_FALSE(s->next().has_value());
}

TEST(ResponderSlicer, HugeObjectRangeIsCheap)
{
    // 5 TiB of 4 MiB stripes (1.3 million): only the stripes the range touches are named.
    Object o = plain();
    o.manifest.obj_size = std::uint64_t{5} << 40;
    auto pieces = all_pieces(o, (std::uint64_t{3} << 40) + 5, 9 * MiB, 4 * MiB);
    ASSERT_EQ(pieces.size(), 3u);
    const std::uint64_t stripe = 1 + ((std::uint64_t{3} << 40) - 4 * MiB) / (4 * MiB);
    EXPECT_EQ(pieces[0].oid, "m__shadow_x" + std::to_string(stripe));
    EXPECT_EQ(pieces[0].rados_offset, 5u);
    EXPECT_EQ(pieces[2].oid, "m__shadow_x" + std::to_string(stripe + 2));
    EXPECT_EQ(pieces[2].length, MiB + 5);
}

TEST(ResponderSlicer, RandomRangesTile)
{
    std::mt19937_64 rng(42);
    for (const auto& e : {plain(), multipart()}) {
        std::uint64_t size = e.manifest.obj_size;
        for (int i = 0; i < 500; ++i) {
            std::uint64_t first = rng() % size;
            std::uint64_t length = 1 + rng() % (size - first);
            std::uint64_t piece = 1 + rng() % (5 * MiB);
            expect_tiles(e, all_pieces(e, first, length, piece), first, length, piece);
        }
    }
}

} // namespace
