// The pipelined streamer (osd_xo/stream.h) with a fake reader whose reads
// the test completes in random order: bytes must still leave in range
// order, no more than `depth` reads may be outstanding, and short reads,
// read errors and write errors must end the stream.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <unistd.h>

#include <random>
#include <thread>

#include "osd_xo/fd_sink.h"
#include "osd_xo/stream.h"

namespace {

namespace asio = boost::asio;
using xo::Error;
using xo::Result;
using xo::rgw::Extent;
using xo::rsp::Bytes;
using xo::rsp::ChunkSlot;
using xo::rsp::OneShot;
using xo::rsp::RangeSlicer;

constexpr std::uint64_t KiB = 1024;

/** byte_at() - the synthetic object's byte at logical offset @x. */
std::uint8_t byte_at(std::uint64_t x)
{
    return static_cast<std::uint8_t>((x * 131 + (x >> 11)) & 0xff);
}

Bytes object_bytes(std::uint64_t first, std::uint64_t length)
{
    Bytes out(length);
    for (std::uint64_t i = 0; i < length; ++i)
        out[i] = byte_at(first + i);
    return out;
}

/** Extents of a 3 × 64 KiB + 1000 B object: a 64 KiB head and stripes. */
xo::rgw::ExtentCursor extents()
{
    xo::rgw::Manifest m;
    m.obj_size = 192 * KiB + 1000;
    m.obj.key.name = "a";
    m.head_size = m.max_head_size = 64 * KiB;
    m.prefix = "x";
    m.rules = {{0, 0, 64 * KiB, 0, 64 * KiB, ""}};
    return xo::rgw::ExtentCursor::open(m, xo::rgw::HeadObject{"p", "", "a", ""}).value();
}

/** A reader whose reads stay pending until the test completes them. */
class FakeReader final : public xo::rsp::ChunkReader {
public:
    explicit FakeReader(asio::io_context& ioc) : ioc_(ioc) {}

    ChunkSlot start(const Extent& piece) override
    {
        auto slot = OneShot<Result<Bytes>>::create(ioc_.get_executor());
        pending.push_back({piece, slot});
        ++started;
        max_pending = std::max(max_pending, pending.size());
        return slot;
    }

    /** complete() - finish pending read @i with the object's bytes (minus @short_by). */
    void complete(std::size_t i, std::uint64_t short_by = 0)
    {
        auto [piece, slot] = pending[i];
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
        slot->complete(object_bytes(piece.logical_offset, piece.length - short_by));
    }

    void fail(std::size_t i)
    {
        auto slot = pending[i].second;
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
        slot->complete(Error{"injected read error", EIO});
    }

    std::vector<std::pair<Extent, ChunkSlot>> pending;
    std::size_t started = 0, max_pending = 0;

private:
    asio::io_context& ioc_;
};

/** A sink that keeps what it is given, optionally failing after @fail_after bytes. */
class MemorySink final : public xo::rsp::ByteSink {
public:
    asio::awaitable<Result<void>> write(std::span<const std::uint8_t> bytes) override
    {
        if (got.size() + bytes.size() > fail_after)
            co_return Error{"injected write error", EPIPE};
        got.insert(got.end(), bytes.begin(), bytes.end());
        co_return Result<void>();
    }
    Bytes got;
    std::size_t fail_after = SIZE_MAX;
};

struct StreamRun {
    bool finished = false;
    Result<void> result;
};

/**
 * drive() - stream [@first, +@length) with @head_len bytes pre-read, completing
 * reads in the order @pick chooses; @act may fail or shorten a read instead.
 */
template <typename Pick>
StreamRun drive(FakeReader& reader, asio::io_context& ioc, MemorySink& sink, std::uint64_t first, std::uint64_t length,
          std::uint64_t head_len, std::uint64_t piece, std::size_t depth, Pick pick)
{
    static const auto e = extents();
    StreamRun run;
    auto slicer = RangeSlicer::create(e, first + head_len, length - head_len, piece);
    EXPECT_TRUE(slicer.ok());
    if (!slicer)
        return run;
    asio::co_spawn(
        ioc,
        [&reader, &sink, &run, depth, s = std::move(*slicer), head = object_bytes(first, head_len)]() mutable
        -> asio::awaitable<void> {
            auto streaming = xo::rsp::stream_range(reader, std::move(s), std::move(head), sink, depth);
            run.result = co_await std::move(streaming);
            run.finished = true;
        },
        asio::detached);
    for (int guard = 0; guard < 100000; ++guard) {
        ioc.restart();
        ioc.poll();
        if (run.finished || reader.pending.empty())
            break;
        pick(reader);
    }
    return run;
}

TEST(ResponderStream, OutOfOrderCompletionsLeaveInOrder)
{
    for (std::size_t depth : {1, 2, 4, 7}) {
        for (unsigned seed = 0; seed < 20; ++seed) {
            asio::io_context ioc;
            FakeReader reader(ioc);
            MemorySink sink;
            std::mt19937 rng(seed);
            std::uint64_t first = rng() % 1000, length = 192 * KiB + 1000 - first - rng() % 500;
            auto run = drive(reader, ioc, sink, first, length, 0, 16 * KiB + rng() % 1000, depth,
                             [&](FakeReader& r) { r.complete(rng() % r.pending.size()); });
            ASSERT_TRUE(run.finished);
            ASSERT_TRUE(run.result.ok()) << run.result.error().message;
            EXPECT_EQ(sink.got, object_bytes(first, length)) << "depth " << depth << " seed " << seed;
            EXPECT_LE(reader.max_pending, depth);
            if (depth > 1) {
                EXPECT_GT(reader.max_pending, 1u) << "reads were not pipelined";
            }
        }
    }
}

TEST(ResponderStream, HeadBytesGoFirstThenTheRest)
{
    asio::io_context ioc;
    FakeReader reader(ioc);
    MemorySink sink;
    auto run = drive(reader, ioc, sink, 10, 100 * KiB, 30 * KiB, 8 * KiB, 4,
                     [](FakeReader& r) { r.complete(r.pending.size() - 1); }); // newest first
    ASSERT_TRUE(run.finished && run.result.ok());
    EXPECT_EQ(sink.got, object_bytes(10, 100 * KiB));
}

TEST(ResponderStream, RangeInsideTheHeadNeedsNoReads)
{
    asio::io_context ioc;
    FakeReader reader(ioc);
    MemorySink sink;
    auto run = drive(reader, ioc, sink, 5, 1000, 1000, 8 * KiB, 4, [](FakeReader&) {});
    ASSERT_TRUE(run.finished && run.result.ok());
    EXPECT_EQ(reader.started, 0u);
    EXPECT_EQ(sink.got, object_bytes(5, 1000));
}

TEST(ResponderStream, ShortReadIsAnError)
{
    asio::io_context ioc;
    FakeReader reader(ioc);
    MemorySink sink;
    bool shortened = false;
    auto run = drive(reader, ioc, sink, 0, 192 * KiB + 1000, 0, 64 * KiB, 3, [&](FakeReader& r) {
        bool last = r.pending[0].first.logical_offset == 192 * KiB; // the short last stripe
        r.complete(0, last ? 1 : 0);
        shortened |= last;
    });
    ASSERT_TRUE(run.finished);
    ASSERT_TRUE(shortened);
    ASSERT_FALSE(run.result.ok());
    EXPECT_NE(run.result.error().message.find("short read"), std::string::npos);
    EXPECT_EQ(sink.got.size(), 192 * KiB); // everything before the short piece, nothing of it
}

TEST(ResponderStream, ReadErrorEndsTheStreamWithOthersInFlight)
{
    asio::io_context ioc;
    FakeReader reader(ioc);
    MemorySink sink;
    int n = 0;
    auto run = drive(reader, ioc, sink, 0, 192 * KiB, 0, 16 * KiB, 4, [&](FakeReader& r) {
        if (++n == 3)
            r.fail(0);
        else
            r.complete(0);
    });
    ASSERT_TRUE(run.finished);
    ASSERT_FALSE(run.result.ok());
    EXPECT_EQ(run.result.error().code, EIO);
    EXPECT_EQ(sink.got.size(), 32 * KiB);
}

TEST(ResponderStream, WriteErrorEndsTheStream)
{
    asio::io_context ioc;
    FakeReader reader(ioc);
    MemorySink sink;
    sink.fail_after = 50 * KiB;
    auto run = drive(reader, ioc, sink, 0, 192 * KiB, 0, 16 * KiB, 2, [](FakeReader& r) { r.complete(0); });
    ASSERT_TRUE(run.finished);
    ASSERT_FALSE(run.result.ok());
    EXPECT_EQ(run.result.error().code, EPIPE);
}

TEST(ResponderStream, FdSinkThroughAPipe)
{
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    Bytes received;
    std::thread drain([&] {
        std::uint8_t buf[4096];
        for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
            received.insert(received.end(), buf, buf + n);
    });
    asio::io_context ioc;
    FakeReader reader(ioc);
    xo::rsp::FdSink sink(fds[1]);
    auto e = extents();
    auto slicer = RangeSlicer::create(e, 7, 150 * KiB, 20 * KiB);
    ASSERT_TRUE(slicer.ok());
    StreamRun run;
    asio::co_spawn(
        ioc,
        [&, s = std::move(*slicer)]() mutable -> asio::awaitable<void> {
            auto streaming = xo::rsp::stream_range(reader, std::move(s), Bytes{}, sink, 3);
            run.result = co_await std::move(streaming);
            run.finished = true;
        },
        asio::detached);
    while (!run.finished) {
        ioc.restart();
        ioc.poll();
        if (!reader.pending.empty())
            reader.complete(reader.pending.size() / 2);
    }
    ::close(fds[1]);
    drain.join();
    ::close(fds[0]);
    ASSERT_TRUE(run.result.ok());
    EXPECT_EQ(sink.written(), 150 * KiB);
    EXPECT_EQ(received, object_bytes(7, 150 * KiB));
}

} // namespace
