// The client socket sink (osd_xo/socket_sink.h) on loopback: a reading
// client gets every byte and the sent counter follows; a client that stops
// reading ends the write with ETIMEDOUT after the stall timeout, with the
// bytes that did leave counted.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <thread>

#include "osd_xo/socket_sink.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

struct Pair {
    asio::io_context ioc;
    tcp::socket server{ioc}, client{ioc};

    Pair()
    {
        tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        client.connect(acceptor.local_endpoint());
        server = acceptor.accept();
        // Small buffers, so a client that does not read stalls the writer quickly.
        server.set_option(asio::socket_base::send_buffer_size(16 * 1024));
        client.set_option(asio::socket_base::receive_buffer_size(16 * 1024));
    }
};

xo::Result<void> write_all(Pair& p, xo::rsp::SocketSink& sink, const std::vector<std::uint8_t>& data)
{
    xo::Result<void> result = xo::Error{"not run"};
    bool done = false;
    asio::co_spawn(
        p.ioc,
        [&]() -> asio::awaitable<void> {
            result = co_await sink.write(data);
            done = true;
        },
        asio::detached);
    p.ioc.run();
    EXPECT_TRUE(done);
    return result;
}

TEST(ResponderSocketSink, ReadingClientGetsEverything)
{
    Pair p;
    xo::metrics::Counter sent;
    xo::rsp::SocketSink sink(p.server, 5s, &sent);
    std::vector<std::uint8_t> data(3 << 20);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<std::uint8_t>(i * 7);
    std::vector<std::uint8_t> got;
    std::thread reader([&] {
        std::vector<std::uint8_t> buf(65536);
        boost::system::error_code ec;
        while (got.size() < data.size()) {
            std::size_t n = p.client.read_some(asio::buffer(buf), ec);
            if (ec)
                break;
            got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        }
    });
    auto r = write_all(p, sink, data);
    reader.join();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(got, data);
    EXPECT_EQ(sent.value(), data.size());
    EXPECT_EQ(sink.written(), data.size());
}

TEST(ResponderSocketSink, StalledClientTimesOut)
{
    Pair p;
    xo::metrics::Counter sent;
    xo::rsp::SocketSink sink(p.server, 300ms, &sent);
    std::vector<std::uint8_t> data(16 << 20);
    auto started = std::chrono::steady_clock::now();
    auto r = write_all(p, sink, data);
    auto took = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ETIMEDOUT);
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 5s);
    EXPECT_GT(sent.value(), 0u);
    EXPECT_LT(sent.value(), data.size());
    EXPECT_EQ(sent.value(), sink.written());
    EXPECT_TRUE(p.server.is_open()) << "the sink must leave closing to the host";
}

} // namespace
