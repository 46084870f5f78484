// The offload shaping (offload_shaping.h) against a fake radosgw on
// 127.0.0.1 that answers like radosgw does: 200 for a plain GET, 206 with
// Content-Range for a satisfiable Range, 416 for a Range of an empty object
// or beyond its end, 412 when If-Match names another ETag. Each test runs
// prepare_request() (the narrowing), sends the head over a real TCP
// connection and runs the shaping steps on an io_context of its own, with a
// deadline on every wait. The memory of small objects is checked too
// (small_objects.h).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http/read.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <map>
#include <mutex>

#include "rgw_xo/offload_shaping.h"
#include "rgw_xo/request_head.h"
#include "rgw_xo/small_objects.h"
#include "qa/unit/test_support.h"

namespace {

namespace http = boost::beast::http;
using namespace xo::test;
using namespace xo::gw;

constexpr std::uint64_t threshold = 1024;

/** A fake radosgw's object store: key (the target's path) -> body, ETag. */
class FakeRadosgw {
public:
    FakeRadosgw() : server_(FakeUpstream::serving([this](const Message& req) { return answer(req); })) {}

    void put(const std::string& path, std::string body)
    {
        std::lock_guard lock(mutex_);
        auto& object = objects_[path];
        object.body = std::move(body);
        object.etag = "\"etag-" + std::to_string(++version_) + "\"";
    }
    std::string etag(const std::string& path) const
    {
        std::lock_guard lock(mutex_);
        return objects_.at(path).etag;
    }
    std::uint16_t port() const { return server_.port(); }
    std::vector<Message> requests() const { return server_.requests(); }

private:
    struct Object {
        std::string body;
        std::string etag;
    };

    std::string answer(const Message& req) const
    {
        std::lock_guard lock(mutex_);
        const std::string path = req.target.substr(0, req.target.find('?'));
        auto it = objects_.find(path);
        if (it == objects_.end())
            return response_bytes(404, "Not Found", "<Error><Code>NoSuchKey</Code></Error>");
        const Object& object = it->second;
        if (auto match = req.field("If-Match"); match && *match != object.etag)
            return response_bytes(412, "Precondition Failed", "<Error><Code>PreconditionFailed</Code></Error>");
        const std::string etag = "ETag: " + object.etag + "\r\n";
        auto range = req.field("Range");
        if (!range)
            return response_bytes(200, "OK", object.body, etag);
        auto wanted = parse_range_request(*range);
        if (!wanted || wanted->first >= object.body.size())
            return response_bytes(416, "Requested Range Not Satisfiable",
                                  "<Error><Code>InvalidRange</Code></Error>");
        const std::uint64_t last = std::min<std::uint64_t>(wanted->last.value_or(object.body.size() - 1),
                                                           object.body.size() - 1);
        return response_bytes(206, "Partial Content", object.body.substr(wanted->first, last - wanted->first + 1),
                              etag + "Content-Range: bytes " + std::to_string(wanted->first) + "-" +
                                  std::to_string(last) + "/" + std::to_string(object.body.size()) + "\r\n");
    }

    mutable std::mutex mutex_;
    std::map<std::string, Object> objects_;
    unsigned version_ = 0;
    FakeUpstream server_; // last: its threads call answer()
};

/** One client GET as the relay handles it: the head, radosgw's answer and the shaping, on a connection of its own. */
class Exchange {
public:
    Exchange(std::uint16_t port, SmallObjects& small, const std::string& target, std::string_view range = {})
        : req_(http::verb::get, target, 11), small_(small)
    {
        req_.set(http::field::host, "gw.test");
        if (!range.empty())
            req_.set(http::field::range, range);
        boost::system::error_code ec;
        stream_.socket().connect({boost::asio::ip::address_v4::loopback(), port}, ec);
        connected_ = !ec;
        auto prepared = prepare_request(req_, "X-XO-Client-Addr", "127.0.0.1", threshold, &small_);
        if (prepared.object)
            shaping_.emplace(std::move(*prepared.object), prepared.narrowed, threshold, small_);
    }

    bool connected() const { return connected_; }
    OffloadShaping& shaping() { return *shaping_; }
    bool offloadable() const { return shaping_.has_value(); }
    http::response<http::buffer_body>& response() { return res_->get(); }
    ResponseParser& parser() { return *res_; }

    /** send() - the (prepared) request, and radosgw's answer header, then step 1. */
    boost::system::error_code send()
    {
        auto ec = run(send_and_read_header(link(), req_, res_, false));
        if (ec || !shaping_)
            return ec;
        return run(shaping_->retry_unnarrowed(link(), req_, res_, scratch_));
    }

    /** body() - read @n body bytes of the current response. */
    std::string body(std::size_t n) { return run(read_body(n)); }

    xo::Result<void> request_rest(const Split& split)
    {
        const std::string etag(response()[http::field::etag]);
        return run(shaping_->request_rest(link(), req_, res_, split, etag));
    }

    UpstreamRequest& request() { return req_; }

private:
    UpstreamLink link() { return UpstreamLink{stream_, buffer_, std::chrono::seconds(5)}; }

    template <typename T>
    T run(boost::asio::awaitable<T> step)
    {
        auto done = boost::asio::co_spawn(ioc_, std::move(step), boost::asio::use_future);
        ioc_.restart();
        ioc_.run_for(std::chrono::seconds(10));
        if (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
            throw std::runtime_error("a shaping step did not finish within 10 s");
        return done.get();
    }

    boost::asio::awaitable<std::string> read_body(std::size_t n)
    {
        std::string out(n, '\0');
        std::size_t got = 0;
        while (got < n && !res_->is_done()) {
            res_->get().body().data = out.data() + got;
            res_->get().body().size = n - got;
            boost::system::error_code ec;
            stream_.expires_after(std::chrono::seconds(5));
            co_await http::async_read(stream_, buffer_, *res_,
                                      boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            got = n - res_->get().body().size;
            if (ec && ec != http::error::need_buffer)
                break;
        }
        out.resize(got);
        co_return out;
    }

    boost::asio::io_context ioc_;
    boost::beast::tcp_stream stream_{ioc_};
    boost::beast::flat_buffer buffer_;
    std::optional<ResponseParser> res_;
    std::vector<char> scratch_ = std::vector<char>(64 * 1024);
    UpstreamRequest req_;
    SmallObjects& small_;
    std::optional<OffloadShaping> shaping_;
    bool connected_ = false;
};

// ---------------------------------------------------------------- small objects

TEST(OffloadShaping, SmallObjectIsNarrowedOnceThenSentAsTheClientSentIt)
{
    FakeRadosgw rgw;
    const std::string body = random_bytes(100, 1);
    rgw.put("/b/small", body);
    SmallObjects small(16);

    Exchange first(rgw.port(), small, "/b/small");
    ASSERT_TRUE(first.connected() && first.offloadable());
    ASSERT_FALSE(first.send());
    EXPECT_TRUE(first.shaping().narrowed());
    Shaped shaped = first.shaping().shape(first.parser());
    // radosgw's 206 to the gateway's Range is the client's 200.
    EXPECT_EQ(first.response().result(), http::status::ok);
    EXPECT_EQ(first.response().count(http::field::content_range), 0u);
    EXPECT_EQ(first.response()[http::field::content_length], "100");
    EXPECT_FALSE(shaped.split);
    EXPECT_EQ(shaped.outcome, OffloadOutcome::relayed_small);
    EXPECT_EQ(first.body(100), body);
    EXPECT_EQ(small.size(), 1u);

    Exchange second(rgw.port(), small, "/b/small");
    ASSERT_TRUE(second.connected() && second.offloadable());
    ASSERT_FALSE(second.send());
    EXPECT_FALSE(second.shaping().narrowed());
    shaped = second.shaping().shape(second.parser());
    EXPECT_EQ(second.response().result(), http::status::ok);
    EXPECT_EQ(shaped.outcome, OffloadOutcome::relayed_small);
    EXPECT_EQ(second.body(100), body);

    auto seen = rgw.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].field("Range"), "bytes=0-1023");
    EXPECT_FALSE(seen[1].field("Range")) << seen[1].head;
}

TEST(OffloadShaping, RememberedObjectThatGrewIsStillSplitAndForgotten)
{
    FakeRadosgw rgw;
    rgw.put("/b/k", random_bytes(10, 2));
    SmallObjects small(16);
    {
        Exchange learn(rgw.port(), small, "/b/k");
        ASSERT_FALSE(learn.send());
        learn.shaping().shape(learn.parser());
    }
    const std::string body = random_bytes(5000, 3);
    rgw.put("/b/k", body);

    Exchange grown(rgw.port(), small, "/b/k");
    ASSERT_FALSE(grown.send());
    EXPECT_FALSE(grown.shaping().narrowed());
    Shaped shaped = grown.shaping().shape(grown.parser());
    ASSERT_TRUE(shaped.split);
    EXPECT_EQ(shaped.outcome, OffloadOutcome::offloaded);
    EXPECT_EQ(shaped.split->relay, threshold);
    EXPECT_EQ(shaped.split->offload_first, threshold);
    EXPECT_EQ(shaped.split->offload_length, 5000 - threshold);
    EXPECT_EQ(shaped.split->object_size, 5000u);
    EXPECT_EQ(grown.response().result(), http::status::ok);
    EXPECT_EQ(small.size(), 0u);
    // Not narrowed: the rest is still coming in the same response, no request of the gateway's own.
    EXPECT_EQ(grown.body(threshold), body.substr(0, threshold));
    ASSERT_TRUE(grown.request_rest(*shaped.split).ok());
    EXPECT_EQ(grown.body(5000 - threshold), body.substr(threshold));
    EXPECT_EQ(rgw.requests().size(), 2u);
}

// ---------------------------------------------------------------- large objects

TEST(OffloadShaping, LargeObjectIsNarrowedAndTheRestAskedForWithIfMatch)
{
    FakeRadosgw rgw;
    const std::string body = random_bytes(5000, 4);
    rgw.put("/b/large", body);
    SmallObjects small(16);

    Exchange x(rgw.port(), small, "/b/large");
    ASSERT_FALSE(x.send());
    Shaped shaped = x.shaping().shape(x.parser());
    ASSERT_TRUE(shaped.split);
    EXPECT_EQ(shaped.outcome, OffloadOutcome::offloaded);
    EXPECT_EQ(x.response().result(), http::status::ok);
    EXPECT_EQ(x.response()[http::field::content_length], "5000");
    EXPECT_EQ(x.response().count(http::field::content_range), 0u);
    EXPECT_EQ(shaped.split->relay, threshold);
    EXPECT_EQ(x.body(threshold), body.substr(0, threshold));
    EXPECT_EQ(small.size(), 0u);

    // The handoff did not happen: the gateway asks for the rest itself.
    ASSERT_TRUE(x.request_rest(*shaped.split).ok());
    EXPECT_EQ(x.response().result(), http::status::partial_content);
    EXPECT_EQ(x.body(5000 - threshold), body.substr(threshold));
    auto seen = rgw.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1].field("Range"), "bytes=1024-4999");
    EXPECT_EQ(seen[1].field("If-Match"), rgw.etag("/b/large"));
}

TEST(OffloadShaping, RestOfAnObjectReplacedMeanwhileIsRefused)
{
    FakeRadosgw rgw;
    rgw.put("/b/large", random_bytes(5000, 5));
    SmallObjects small(16);
    Exchange x(rgw.port(), small, "/b/large");
    ASSERT_FALSE(x.send());
    Shaped shaped = x.shaping().shape(x.parser());
    ASSERT_TRUE(shaped.split);
    x.body(threshold);
    rgw.put("/b/large", random_bytes(5000, 6)); // a new ETag
    auto rest = x.request_rest(*shaped.split);
    ASSERT_FALSE(rest.ok());
    EXPECT_NE(rest.error().message.find("412"), std::string::npos) << rest.error().message;
}

TEST(OffloadShaping, ClientsOwnIfMatchIsKeptForTheRest)
{
    FakeRadosgw rgw;
    rgw.put("/b/large", random_bytes(5000, 7));
    SmallObjects small(16);
    Exchange x(rgw.port(), small, "/b/large");
    x.request().set(http::field::if_match, rgw.etag("/b/large"));
    ASSERT_FALSE(x.send());
    Shaped shaped = x.shaping().shape(x.parser());
    ASSERT_TRUE(shaped.split);
    x.body(threshold);
    ASSERT_TRUE(x.request_rest(*shaped.split).ok());
    auto seen = rgw.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1].count("If-Match"), 1u);
}

TEST(OffloadShaping, UnsignedClientRangeIsNarrowedAndWidenedBack)
{
    FakeRadosgw rgw;
    const std::string body = random_bytes(5000, 8);
    rgw.put("/b/large", body);
    SmallObjects small(16);
    Exchange x(rgw.port(), small, "/b/large", "bytes=100-");
    ASSERT_FALSE(x.send());
    ASSERT_TRUE(x.shaping().narrowed());
    Shaped shaped = x.shaping().shape(x.parser());
    ASSERT_TRUE(shaped.split);
    EXPECT_EQ(x.response().result(), http::status::partial_content);
    EXPECT_EQ(x.response()[http::field::content_range], "bytes 100-4999/5000");
    EXPECT_EQ(x.response()[http::field::content_length], "4900");
    EXPECT_EQ(shaped.split->relay, threshold);
    EXPECT_EQ(shaped.split->offload_first, 100 + threshold);
    EXPECT_EQ(x.body(threshold), body.substr(100, threshold));
    ASSERT_TRUE(x.request_rest(*shaped.split).ok());
    EXPECT_EQ(x.body(4900 - threshold), body.substr(100 + threshold));
    EXPECT_EQ(rgw.requests().at(0).field("Range"), "bytes=100-1123");
}

TEST(OffloadShaping, ClientRangeWithinTheThresholdIsLeftAlone)
{
    FakeRadosgw rgw;
    const std::string body = random_bytes(5000, 9);
    rgw.put("/b/large", body);
    SmallObjects small(16);
    Exchange x(rgw.port(), small, "/b/large", "bytes=10-19");
    ASSERT_FALSE(x.send());
    EXPECT_FALSE(x.shaping().narrowed());
    Shaped shaped = x.shaping().shape(x.parser());
    EXPECT_FALSE(shaped.split);
    EXPECT_EQ(shaped.outcome, OffloadOutcome::relayed_small);
    EXPECT_EQ(x.response()[http::field::content_range], "bytes 10-19/5000");
    EXPECT_EQ(x.body(10), body.substr(10, 10));
    EXPECT_EQ(small.size(), 0u); // the object is large, only the range was small
}

TEST(OffloadShaping, LargeResponseWithoutETagIsRelayed)
{
    SmallObjects small(16);
    FakeUpstream no_etag(FakeUpstream::serving([](const Message&) {
        return response_bytes(206, "Partial Content", std::string(threshold, 'x'),
                              "Content-Range: bytes 0-1023/5000\r\n");
    }));
    Exchange x(no_etag.port(), small, "/b/large");
    ASSERT_FALSE(x.send());
    Shaped shaped = x.shaping().shape(x.parser());
    EXPECT_FALSE(shaped.split);
    EXPECT_EQ(shaped.outcome, OffloadOutcome::relayed_ineligible);
    EXPECT_EQ(shaped.reason, "response");
}

// ---------------------------------------------------------------- 416

TEST(OffloadShaping, EmptyObjectsRangeRefusalIsRetriedWithoutTheRange)
{
    FakeRadosgw rgw;
    rgw.put("/b/empty", "");
    SmallObjects small(16);
    Exchange x(rgw.port(), small, "/b/empty");
    ASSERT_FALSE(x.send());
    EXPECT_EQ(x.response().result(), http::status::ok);
    EXPECT_FALSE(x.shaping().narrowed());
    Shaped shaped = x.shaping().shape(x.parser());
    EXPECT_EQ(shaped.outcome, OffloadOutcome::relayed_small);
    EXPECT_EQ(x.response()[http::field::content_length], "0");
    auto seen = rgw.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].field("Range"), "bytes=0-1023");
    EXPECT_FALSE(seen[1].field("Range"));
    // Known small now: the next GET is not narrowed, so there is no 416 to undo.
    Exchange again(rgw.port(), small, "/b/empty");
    ASSERT_FALSE(again.send());
    EXPECT_EQ(again.response().result(), http::status::ok);
    EXPECT_EQ(rgw.requests().size(), 3u);
}

TEST(OffloadShaping, ClientRangeOfAnEmptyObjectGetsRadosgwsOwn416)
{
    FakeRadosgw rgw;
    rgw.put("/b/empty", "");
    SmallObjects small(16);
    Exchange x(rgw.port(), small, "/b/empty", "bytes=0-");
    ASSERT_FALSE(x.send());
    EXPECT_EQ(x.response().result(), http::status::range_not_satisfiable);
    auto seen = rgw.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].field("Range"), "bytes=0-1023");
    EXPECT_EQ(seen[1].field("Range"), "bytes=0-");
}

TEST(OffloadShaping, Other416IsNotRetriedWhenNotNarrowed)
{
    FakeRadosgw rgw;
    rgw.put("/b/k", random_bytes(100, 10));
    SmallObjects small(16);
    Exchange x(rgw.port(), small, "/b/k", "bytes=200-210");
    ASSERT_FALSE(x.send());
    EXPECT_EQ(x.response().result(), http::status::range_not_satisfiable);
    EXPECT_EQ(rgw.requests().size(), 1u);
}

// ---------------------------------------------------------------- failure paths

/** An upstream that answers its Nth request with @answers[N] (the last one again beyond). */
FakeUpstream::Responder in_turn(std::vector<std::string> answers)
{
    auto next = std::make_shared<std::atomic<std::size_t>>(0);
    return [answers = std::move(answers), next](const Message&) {
        return answers.at(std::min(next->fetch_add(1), answers.size() - 1));
    };
}

TEST(OffloadShaping, RefusalThatClosesTheConnectionIsNotRetried)
{
    SmallObjects small(16);
    FakeUpstream rgw(FakeUpstream::serving(in_turn(
        {response_bytes(416, "Requested Range Not Satisfiable", "<Error/>", "Connection: close\r\n")})));
    Exchange x(rgw.port(), small, "/b/empty");
    EXPECT_EQ(x.send(), boost::asio::error::connection_reset);
    EXPECT_EQ(rgw.requests().size(), 1u);
}

TEST(OffloadShaping, PartialContentThatContradictsItselfIsRelayed)
{
    SmallObjects small(16);
    for (const char* content_range : {"bytes 0-99/5000", "bytes x-y/z", "bytes 0-1023/*"}) {
        FakeUpstream rgw(FakeUpstream::serving(in_turn({response_bytes(
            206, "Partial Content", std::string(threshold, 'x'),
            std::string("ETag: \"e\"\r\nContent-Range: ") + content_range + "\r\n")})));
        Exchange x(rgw.port(), small, "/b/large");
        ASSERT_FALSE(x.send());
        Shaped shaped = x.shaping().shape(x.parser());
        EXPECT_FALSE(shaped.split) << content_range;
        EXPECT_EQ(shaped.outcome, OffloadOutcome::relayed_ineligible) << content_range;
        EXPECT_EQ(shaped.reason, "response") << content_range;
        EXPECT_EQ(small.size(), 0u) << content_range;
    }
}

TEST(OffloadShaping, RestAnsweredWithAnythingButItsRangeIsRefused)
{
    const std::string first = response_bytes(206, "Partial Content", std::string(threshold, 'x'),
                                             "ETag: \"e\"\r\nContent-Range: bytes 0-1023/5000\r\n");
    const std::string whole = response_bytes(200, "OK", std::string(5000, 'x'), "ETag: \"e\"\r\n");
    const std::string shifted = response_bytes(206, "Partial Content", std::string(5000 - threshold, 'x'),
                                               "ETag: \"e\"\r\nContent-Range: bytes 0-3975/5000\r\n");
    const std::string resized = response_bytes(206, "Partial Content", std::string(5000 - threshold, 'x'),
                                               "ETag: \"e\"\r\nContent-Range: bytes 1024-4999/6000\r\n");
    for (const auto& [rest, says] : std::vector<std::pair<std::string, std::string>>{
             {whole, "200"}, {shifted, "206"}, {resized, "206"}}) {
        SmallObjects small(16);
        FakeUpstream rgw(FakeUpstream::serving(in_turn({first, rest})));
        Exchange x(rgw.port(), small, "/b/large");
        ASSERT_FALSE(x.send());
        Shaped shaped = x.shaping().shape(x.parser());
        ASSERT_TRUE(shaped.split);
        EXPECT_EQ(x.body(threshold), std::string(threshold, 'x'));
        auto asked = x.request_rest(*shaped.split);
        ASSERT_FALSE(asked.ok()) << says;
        EXPECT_NE(asked.error().message.find("answered " + says), std::string::npos) << asked.error().message;
    }
}

TEST(OffloadShaping, RestWhenRadosgwHasGoneIsRefused)
{
    SmallObjects small(16);
    // Answers the narrowed GET, then ends the connection.
    FakeUpstream rgw([](FakeUpstream& up, Conn& conn) {
        Message req;
        if (read_request(conn, req, deadline_in(std::chrono::seconds(10)))) {
            up.record(req);
            conn.send_all(response_bytes(206, "Partial Content", std::string(threshold, 'x'),
                                         "ETag: \"e\"\r\nContent-Range: bytes 0-1023/5000\r\n"));
        }
        conn.shutdown_write();
    });
    Exchange x(rgw.port(), small, "/b/large");
    ASSERT_FALSE(x.send());
    Shaped shaped = x.shaping().shape(x.parser());
    ASSERT_TRUE(shaped.split);
    x.body(threshold);
    auto asked = x.request_rest(*shaped.split);
    ASSERT_FALSE(asked.ok());
    EXPECT_EQ(rgw.requests().size(), 1u);
}

// ---------------------------------------------------------------- the memory itself

xo::rgw::ObjectName name(std::string key, std::string version = "")
{
    return xo::rgw::ObjectName{"bucket", std::move(key), std::move(version)};
}

TEST(SmallObjects, ForgetsTheLeastRecentlyUsedAtCapacity)
{
    SmallObjects small(2);
    small.remember(name("a"));
    small.remember(name("b"));
    EXPECT_TRUE(small.contains(name("a"))); // a is now the most recent
    small.remember(name("c"));
    EXPECT_EQ(small.size(), 2u);
    EXPECT_TRUE(small.contains(name("a")));
    EXPECT_FALSE(small.contains(name("b")));
    EXPECT_TRUE(small.contains(name("c")));
    small.forget(name("a"));
    EXPECT_FALSE(small.contains(name("a")));
    EXPECT_EQ(small.size(), 1u);
}

TEST(SmallObjects, NamesDifferByBucketKeyAndVersion)
{
    SmallObjects small(8);
    small.remember(name("k", "v1"));
    EXPECT_FALSE(small.contains(name("k")));
    EXPECT_FALSE(small.contains(name("k", "v2")));
    EXPECT_FALSE(small.contains(xo::rgw::ObjectName{"other", "k", "v1"}));
    // A key that ends the way another name's version begins is still another name.
    small.remember(name("1"));
    EXPECT_FALSE(small.contains(name("", "1")));
    EXPECT_TRUE(small.contains(name("k", "v1")));
}

TEST(SmallObjects, CapacityZeroRemembersNothing)
{
    SmallObjects small(0);
    small.remember(name("a"));
    EXPECT_EQ(small.size(), 0u);
    EXPECT_FALSE(small.contains(name("a")));
}

} // namespace
