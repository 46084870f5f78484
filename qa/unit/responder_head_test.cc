// Which of the bytes the admission read with the head's xattrs are the
// object's bytes from plan.first (osd_xo/head_prefix.h).
#include <gtest/gtest.h>

#include "osd_xo/head_prefix.h"

namespace {

using xo::rgw::Extent;
using xo::rsp::Bytes;
using xo::rsp::head_prefix;
using xo::rsp::HeadSnapshot;

constexpr std::uint64_t MiB = 1 << 20;

xo::handoff::ServePlan plan(std::uint64_t first, std::uint64_t length, std::uint64_t size)
{
    xo::handoff::ServePlan p;
    p.pool = "pool";
    p.oid = "m_key";
    p.object_size = size;
    p.first = first;
    p.length = length;
    return p;
}

/** The first extent of a 9 MiB plain upload: its 4 MiB head (stripes follow). */
Extent plain()
{
    return Extent{"pool", "", "m_key", "", 0, 4 * MiB, 0};
}

/** What a head read at RADOS offset @first for @length bytes gives on a head of @size bytes. */
HeadSnapshot read(std::uint64_t size, std::uint64_t first, std::uint64_t length)
{
    HeadSnapshot s;
    s.size = size;
    for (std::uint64_t i = first; i < std::min(size, first + length); ++i)
        s.data.push_back(static_cast<std::uint8_t>(i));
    return s;
}

TEST(ResponderHeadPrefix, RangeStartingInTheHeadKeepsTheRead)
{
    auto h = head_prefix(plan(100, 9 * MiB - 100, 9 * MiB), plain(), read(4 * MiB, 100, MiB), MiB);
    ASSERT_TRUE(h.ok()) << h.error().message;
    ASSERT_EQ(h->size(), MiB);
    EXPECT_EQ((*h)[0], static_cast<std::uint8_t>(100));
}

TEST(ResponderHeadPrefix, ReadIsCutAtTheHeadExtent)
{
    // The RADOS head is larger than its extent: bytes past it are not the object's.
    auto h = head_prefix(plan(4 * MiB - 10, 20, 9 * MiB), plain(), read(5 * MiB, 4 * MiB - 10, 20), 20);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->size(), 10u);
}

TEST(ResponderHeadPrefix, RangeAfterTheHeadHasNoPrefix)
{
    auto h = head_prefix(plan(5 * MiB, MiB, 9 * MiB), plain(), read(4 * MiB, 5 * MiB, MiB), MiB);
    ASSERT_TRUE(h.ok());
    EXPECT_TRUE(h->empty());
}

TEST(ResponderHeadPrefix, MultipartHeadHoldsNothing)
{
    Extent parts{"pool", "", "m__multipart_key.up.1", "", 0, 5 * MiB, 0};
    auto h = head_prefix(plan(0, MiB, 5 * MiB), parts, read(0, 0, MiB), MiB);
    ASSERT_TRUE(h.ok());
    EXPECT_TRUE(h->empty());
}

TEST(ResponderHeadPrefix, WholeSmallObject)
{
    Extent small{"pool", "", "m_key", "", 0, 1000, 0};
    auto h = head_prefix(plan(0, 1000, 1000), small, read(1000, 0, MiB), MiB);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->size(), 1000u);
}

TEST(ResponderHeadPrefix, EmptyObjectHasNoPrefix)
{
    auto h = head_prefix(plan(0, 0, 0), std::nullopt, read(0, 0, MiB), MiB);
    ASSERT_TRUE(h.ok());
    EXPECT_TRUE(h->empty());
}

TEST(ResponderHeadPrefix, HeadShorterThanItsExtentIsRefused)
{
    auto h = head_prefix(plan(5 * MiB, 10, 9 * MiB), plain(), read(4 * MiB - 1, 5 * MiB, 10), 10);
    ASSERT_FALSE(h.ok());
    EXPECT_NE(h.error().message.find("manifest says"), std::string::npos);
}

TEST(ResponderHeadPrefix, ShortReadInsideTheExtentIsRefused)
{
    HeadSnapshot s = read(4 * MiB, 0, 100);
    s.data.resize(50);
    auto h = head_prefix(plan(0, 100, 9 * MiB), plain(), s, 100);
    ASSERT_FALSE(h.ok());
    EXPECT_NE(h.error().message.find("50 of 100"), std::string::npos);
}

} // namespace
