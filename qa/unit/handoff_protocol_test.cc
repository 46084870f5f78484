// Tests of the handoff protocol: message encoding (every type round trips,
// every malformed input is an error), key files, and the authenticated
// control channel on loopback (wrong keys, stalled and vanished peers,
// several flows in flight on one channel).
//
// Theory of operation: each channel test runs its coroutines on a local
// io_context with run_for() (channel_support.h), so a hang shows up as a
// missing result after a few seconds, never as a stuck ctest. Results are
// declared before the io_context so that coroutine frames it still owns at
// the end die first; channels and streams after it, so that they close
// before the io_context's services they use go (found by ASan).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

#include "qa/unit/channel_support.h"
#include "common/handoff/control_channel.h"
#include "common/handoff/flow_mux.h"
#include "common/handoff/handoff_messages.h"
#include "common/handoff/psk.h"
#include "common/wire.h"

namespace xo {
namespace {

using namespace std::chrono_literals;
using boost::asio::awaitable;
using boost::asio::use_awaitable;
using boost::asio::ip::tcp;
namespace h = handoff;

constexpr auto test_budget = 10s;

h::Bytes bytes_of(std::string_view s) { return h::Bytes(s.begin(), s.end()); }

std::vector<h::Message> one_of_each()
{
    return {
        h::Offer{.flow_id = 1,
                 .tcp_state = bytes_of("tcp-state"),
                 .read_ahead = bytes_of("GET /next HTTP/1.1\r\n"),
                 .app_payload = bytes_of("plan"),
                 .ticket = bytes_of("ticket")},
        h::Ready{.flow_id = 0xfedcba9876543210, .local_address = {127, 0, 0, 1}, .local_port = 40001},
        h::Go{.flow_id = 3},
        h::Refuse{.flow_id = 4, .reason = h::RefuseReason::unsupported, .text = "compressed object"},
        h::Abort{.flow_id = 5, .text = "client went away"},
        h::Abort{.flow_id = 9, .text = "no GO in time", .resumable = true},
        h::Progress{.flow_id = 10, .acked = 0x123456789abcdef0},
        h::ReturnPrepare{.flow_id = 6},
        h::Return{.flow_id = 7,
                  .tcp_state = bytes_of("state-back"),
                  .read_ahead = bytes_of("GET /x"),
                  .app_payload = bytes_of("tls")},
        h::Done{.flow_id = 8},
    };
}

h::Bytes frame_of(const h::Message& m)
{
    auto f = h::encode(m);
    EXPECT_TRUE(f.ok());
    return f.ok() ? *f : h::Bytes{};
}

// A frame with a hand-written header and payload, for inputs encode() refuses.
h::Bytes raw_frame(std::uint16_t magic, std::uint8_t version, std::uint8_t type, const h::Bytes& payload,
                   std::optional<std::uint32_t> length = std::nullopt)
{
    WireWriter w;
    w.u16(magic);
    w.u8(version);
    w.u8(type);
    w.u32(length.value_or(static_cast<std::uint32_t>(payload.size())));
    w.raw(payload);
    return w.take();
}

// --- messages ---------------------------------------------------------------

TEST(HandoffMessages, EveryTypeRoundTrips)
{
    for (const auto& m : one_of_each()) {
        auto frame = frame_of(m);
        ASSERT_GE(frame.size(), h::header_size);
        EXPECT_EQ(frame[0], 'X');
        EXPECT_EQ(frame[1], 'O');
        EXPECT_EQ(frame[2], h::protocol_version);
        EXPECT_EQ(frame[3], static_cast<std::uint8_t>(h::type_of(m)));
        auto back = h::decode(frame);
        ASSERT_TRUE(back.ok()) << h::type_name(h::type_of(m)) << ": " << back.error().message;
        EXPECT_EQ(*back, m) << h::type_name(h::type_of(m));
    }
}

TEST(HandoffMessages, EmptyAndMaximalFieldsRoundTrip)
{
    h::Offer big{.flow_id = 9,
                 .tcp_state = h::Bytes(h::max_tcp_state, 0xab),
                 .read_ahead = {},
                 .app_payload = h::Bytes(h::max_app_payload, 1),
                 .ticket = h::Bytes(h::max_ticket, 2)};
    auto back = h::decode(frame_of(big));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(std::get<h::Offer>(*back), big);
}

TEST(HandoffMessages, EveryTruncationIsAnError)
{
    for (const auto& m : one_of_each()) {
        auto frame = frame_of(m);
        for (std::size_t n = 0; n < frame.size(); ++n)
            EXPECT_FALSE(h::decode(std::span(frame.data(), n)).ok())
                << h::type_name(h::type_of(m)) << " cut at " << n;
    }
}

TEST(HandoffMessages, PayloadShorterThanItsFieldsIsAnError)
{
    // The header agrees with the payload, but the payload ends inside a field.
    auto full = frame_of(one_of_each()[0]);
    h::Bytes payload(full.begin() + h::header_size, full.end() - 3);
    auto r = h::decode(raw_frame(h::frame_magic, h::protocol_version, 1, payload));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("truncated"), std::string::npos) << r.error().message;
}

TEST(HandoffMessages, WrongMagicVersionOrTypeIsAClearError)
{
    h::Bytes flow(8, 0);
    auto magic = h::decode(raw_frame(0x4854, h::protocol_version, 3, flow)); // "HT"TP
    ASSERT_FALSE(magic.ok());
    EXPECT_NE(magic.error().message.find("magic"), std::string::npos) << magic.error().message;

    // Version 1 had no PROGRESS: a mixed pair fails at its first frame, clearly.
    auto version = h::decode(raw_frame(h::frame_magic, 1, 3, flow));
    ASSERT_FALSE(version.ok());
    EXPECT_NE(version.error().message.find("unsupported protocol version 1"), std::string::npos)
        << version.error().message;

    for (std::uint8_t type : {0, 10, 255}) {
        auto unknown = h::decode(raw_frame(h::frame_magic, h::protocol_version, type, flow));
        ASSERT_FALSE(unknown.ok());
        EXPECT_NE(unknown.error().message.find("unknown message type " + std::to_string(type)), std::string::npos)
            << unknown.error().message;
    }
}

TEST(HandoffMessages, OversizedLengthsAreRefusedFromTheHeader)
{
    // A GO carries only a flow id: announcing more is refused before reading on.
    auto go = h::decode_header(raw_frame(h::frame_magic, h::protocol_version, 3, {}, 9));
    ASSERT_FALSE(go.ok());
    EXPECT_NE(go.error().message.find("exceeds its limit"), std::string::npos) << go.error().message;

    auto offer = h::decode_header(raw_frame(h::frame_magic, h::protocol_version, 1, {}, 0xffffffff));
    EXPECT_FALSE(offer.ok());
    auto max_ok = h::decode_header(
        raw_frame(h::frame_magic, h::protocol_version, 1, {}, static_cast<std::uint32_t>(h::max_payload(h::MessageType::offer))));
    EXPECT_TRUE(max_ok.ok());
}

TEST(HandoffMessages, OversizedFieldIsAnError)
{
    // OFFER whose ticket claims one byte more than the ticket limit.
    h::Bytes payload(8, 0);
    for (int field = 0; field < 3; ++field)
        payload.insert(payload.end(), {0, 0, 0, 0});
    std::uint32_t n = h::max_ticket + 1;
    payload.insert(payload.end(), {static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                                   static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
    payload.resize(payload.size() + n, 0);
    auto r = h::decode(raw_frame(h::frame_magic, h::protocol_version, 1, payload));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("ticket"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("exceeds its limit"), std::string::npos) << r.error().message;
}

TEST(HandoffMessages, TrailingGarbageIsAnError)
{
    for (const auto& m : one_of_each()) {
        auto frame = frame_of(m);
        // Inside the frame: the header counts one byte more than the fields use.
        h::Bytes payload(frame.begin() + h::header_size, frame.end());
        payload.push_back(0);
        auto inside = h::decode(raw_frame(h::frame_magic, h::protocol_version, frame[3], payload));
        ASSERT_FALSE(inside.ok()) << h::type_name(h::type_of(m));
        // Fixed-size types are already refused by the header's length check.
        const auto& why = inside.error().message;
        EXPECT_TRUE(why.find("trailing garbage") != std::string::npos || why.find("exceeds its limit") != std::string::npos)
            << why;
        // After the frame.
        frame.push_back(0);
        EXPECT_FALSE(h::decode(frame).ok()) << h::type_name(h::type_of(m));
    }
}

TEST(HandoffMessages, EncodeRefusesWhatThePeerWouldRefuse)
{
    EXPECT_FALSE(h::encode(h::Offer{.flow_id = 1, .tcp_state = {}, .read_ahead = {}, .app_payload = {},
                                    .ticket = h::Bytes(h::max_ticket + 1)})
                     .ok());
    EXPECT_FALSE(h::encode(h::Return{.flow_id = 1, .tcp_state = h::Bytes(h::max_tcp_state + 1), .read_ahead = {},
                                     .app_payload = {}})
                     .ok());
    EXPECT_FALSE(h::encode(h::Ready{.flow_id = 1, .local_address = {1, 2, 3}, .local_port = 1}).ok());
    EXPECT_FALSE(h::encode(h::Abort{.flow_id = 1, .text = std::string(h::max_reason_text + 1, 'x')}).ok());
}

TEST(HandoffMessages, BadAddressSizeIsADecodeError)
{
    h::Bytes payload(8, 0);
    payload.insert(payload.end(), {0, 0, 0, 5, 1, 2, 3, 4, 5, 0, 80});
    auto r = h::decode(raw_frame(h::frame_magic, h::protocol_version, 2, payload));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("local address"), std::string::npos) << r.error().message;
}

// --- key files --------------------------------------------------------------

class KeyFile : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/xo-psk-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override
    {
        for (const auto& f : files_)
            ::unlink(f.c_str());
        ::rmdir(dir_.c_str());
    }
    std::string write(const std::string& name, const std::string& text, mode_t mode)
    {
        std::string path = dir_ + "/" + name;
        std::ofstream(path) << text;
        ::chmod(path.c_str(), mode);
        files_.push_back(path);
        return path;
    }
    std::string dir_;
    std::vector<std::string> files_;
};

const std::string good_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

TEST_F(KeyFile, OwnerOnlyFileLoads)
{
    auto ring = handoff::Keyring::load(write("k", "xo1 " + good_hex + "\n", 0600));
    ASSERT_TRUE(ring.ok()) << ring.error().message;
    const handoff::PresharedKey& key = ring->current();
    EXPECT_EQ(key.id(), "xo1");
    ASSERT_EQ(key.secret().size(), handoff::PresharedKey::key_size);
    EXPECT_EQ(key.secret()[0], 0x00);
    EXPECT_EQ(key.secret()[31], 0x1f);
}

TEST_F(KeyFile, GroupOrWorldReadableFileIsRefused)
{
    for (mode_t mode : {0644, 0640, 0604, 0660}) {
        auto key = handoff::Keyring::load(write("k" + std::to_string(mode), "xo1 " + good_hex + "\n", mode));
        ASSERT_FALSE(key.ok()) << std::oct << mode;
        char expect[8];
        std::snprintf(expect, sizeof expect, "%04o", static_cast<unsigned>(mode));
        EXPECT_NE(key.error().message.find(std::string("mode ") + expect), std::string::npos) << key.error().message;
        EXPECT_NE(key.error().message.find("chmod 600"), std::string::npos) << key.error().message;
    }
}

TEST_F(KeyFile, MalformedFilesAreRefusedWithoutQuotingThem)
{
    const std::string other_hex(64, 'a');
    for (auto [name, text] : std::vector<std::pair<std::string, std::string>>{
             {"nokeyid", good_hex + "\n"},
             {"short", "xo1 " + good_hex.substr(2) + "\n"},
             {"nothex", "xo1 " + good_hex.substr(0, 62) + "zz\n"},
             {"sameid", "xo1 " + good_hex + "\nxo1 " + other_hex + "\n"},
             {"toomany", "a " + good_hex + "\nb " + good_hex + "\nc " + good_hex + "\nd " + good_hex + "\ne " +
                             good_hex + "\n"},
             {"empty", ""}}) {
        auto ring = handoff::Keyring::load(write(name, text, 0600));
        ASSERT_FALSE(ring.ok()) << name;
        EXPECT_NE(ring.error().message.find(name), std::string::npos) << ring.error().message; // names the file
        EXPECT_EQ(ring.error().message.find(good_hex.substr(0, 16)), std::string::npos) << ring.error().message;
        EXPECT_EQ(ring.error().message.find(other_hex.substr(0, 16)), std::string::npos) << ring.error().message;
    }
    auto missing = handoff::Keyring::load(dir_ + "/absent");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ENOENT);
}

TEST_F(KeyFile, EveryLineIsAKeyAndTheFirstIsCurrent)
{
    auto ring = handoff::Keyring::load(write("two", "new " + std::string(64, 'b') + "\nold " + good_hex + "\n", 0600));
    ASSERT_TRUE(ring.ok()) << ring.error().message;
    EXPECT_EQ(ring->current().id(), "new");
    ASSERT_NE(ring->find("old"), nullptr);
    EXPECT_EQ(ring->find("old")->secret()[31], 0x1f);
    EXPECT_EQ(ring->find("other"), nullptr);
}

TEST_F(KeyFile, KeyringFileSeesEveryChangeAndABrokenFileStopsItsKeys)
{
    std::string path = write("watched", "xo1 " + good_hex + "\n", 0600);
    handoff::KeyringFile file(path);
    auto first = file.keys();
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto again = file.keys();
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(first->get(), again->get()); // unchanged: not read again

    // A rotation's first step: a second key, written as a new file moved over the old.
    std::string next = write("watched.new", "xo2 " + std::string(64, 'c') + "\nxo1 " + good_hex + "\n", 0600);
    ASSERT_EQ(::rename(next.c_str(), path.c_str()), 0);
    auto rotated = file.keys();
    ASSERT_TRUE(rotated.ok()) << rotated.error().message;
    EXPECT_EQ((*rotated)->current().id(), "xo2");
    EXPECT_NE((*rotated)->find("xo1"), nullptr);

    // Broken (made readable to others): no keys at all until it is fixed.
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    EXPECT_FALSE(file.keys().ok());
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    auto fixed = file.keys();
    ASSERT_TRUE(fixed.ok()) << fixed.error().message;
    EXPECT_EQ((*fixed)->current().id(), "xo2");
}

// --- the channel ------------------------------------------------------------

using test::Loopback;
using test::rethrow;
using test::tls_with;

// A TLS client that speaks raw bytes, to send what ControlChannel never would.
// @keys: the keys its handshake uses; they must outlive it.
awaitable<std::unique_ptr<handoff::ControlChannel::Stream>> raw_client(std::shared_ptr<handoff::ControlTls> tls, tcp::endpoint to,
                                                             handoff::ChannelKeys& keys)
{
    auto stream = std::make_unique<handoff::ControlChannel::Stream>(co_await boost::asio::this_coro::executor, tls->context());
    co_await stream->next_layer().async_connect(to, use_awaitable);
    EXPECT_TRUE(tls->bind(stream->native_handle(), to.address(), keys).ok());
    co_await stream->async_handshake(boost::asio::ssl::stream_base::client, use_awaitable);
    co_return stream;
}

TEST(ControlChannel, AuthenticatedPeersExchangeMessages)
{
    auto server_tls = tls_with(handoff::ControlTls::Role::server, 7);
    auto client_tls = tls_with(handoff::ControlTls::Role::client, 7);
    std::optional<Result<h::Message>> at_server, at_client;
    boost::asio::io_context ioc;
    Loopback lo(ioc);
    const auto offer = one_of_each()[0];
    const auto ready = one_of_each()[1];

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await lo.accept_one(server_tls);
        if (!ch) {
            at_server = ch.error();
            co_return;
        }
        at_server = co_await (*ch)->recv(deadline_in(5s));
        auto sent = co_await (*ch)->send(ready, deadline_in(5s));
        EXPECT_TRUE(sent.ok());
        auto bye = co_await (*ch)->recv(deadline_in(5s)); // the client hangs up
        EXPECT_FALSE(bye.ok());
    }, rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await handoff::connect_channel(client_tls, lo.endpoint(), deadline_in(5s));
        if (!ch) {
            at_client = ch.error();
            co_return;
        }
        auto sent = co_await (*ch)->send(offer, deadline_in(5s));
        EXPECT_TRUE(sent.ok());
        at_client = co_await (*ch)->recv(deadline_in(5s));
    }, rethrow);
    ioc.run_for(test_budget);

    ASSERT_TRUE(at_server.has_value());
    ASSERT_TRUE(at_server->ok()) << at_server->error().message;
    EXPECT_EQ(**at_server, offer);
    ASSERT_TRUE(at_client.has_value());
    ASSERT_TRUE(at_client->ok()) << at_client->error().message;
    EXPECT_EQ(**at_client, ready);
}

TEST(ControlChannel, WrongKeyFailsAndServerKeepsServing)
{
    auto server_tls = tls_with(handoff::ControlTls::Role::server, 7);
    auto good_tls = tls_with(handoff::ControlTls::Role::client, 7);
    auto wrong_key = tls_with(handoff::ControlTls::Role::client, 8);
    auto wrong_id = tls_with(handoff::ControlTls::Role::client, 7, "someone-else");
    std::vector<std::string> server_rejections;
    std::optional<Result<h::Message>> served;
    boost::asio::io_context ioc;
    std::optional<Result<std::unique_ptr<handoff::ControlChannel>>> bad_key_client, bad_id_client;
    Loopback lo(ioc);

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        for (;;) {
            auto ch = co_await lo.accept_one(server_tls);
            if (!ch) {
                server_rejections.push_back(ch.error().message);
                continue;
            }
            served = co_await (*ch)->recv(deadline_in(5s));
            co_return;
        }
    }, rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        bad_key_client = co_await handoff::connect_channel(wrong_key, lo.endpoint(), deadline_in(5s));
        bad_id_client = co_await handoff::connect_channel(wrong_id, lo.endpoint(), deadline_in(5s));
        auto ch = co_await handoff::connect_channel(good_tls, lo.endpoint(), deadline_in(5s));
        EXPECT_TRUE(ch.ok()) << ch.error().message;
        if (ch) {
            h::Message go = h::Go{.flow_id = 42};
            auto sent = co_await (*ch)->send(go, deadline_in(5s));
            EXPECT_TRUE(sent.ok());
        }
    }, rethrow);
    ioc.run_for(test_budget);

    ASSERT_TRUE(bad_key_client.has_value());
    EXPECT_FALSE(bad_key_client->ok());
    ASSERT_TRUE(bad_id_client.has_value());
    EXPECT_FALSE(bad_id_client->ok());
    ASSERT_EQ(server_rejections.size(), 2u);
    for (std::size_t i = 0; i < server_rejections.size(); ++i) {
        EXPECT_NE(server_rejections[i].find("TLS handshake"), std::string::npos) << server_rejections[i];
        RecordProperty("rejection" + std::to_string(i), server_rejections[i]);
    }
    RecordProperty("client_error", bad_key_client->error().message);
    ASSERT_TRUE(served.has_value());
    ASSERT_TRUE(served->ok()) << served->error().message;
    EXPECT_EQ(**served, h::Message{h::Go{.flow_id = 42}});
}

// Runs @client_bytes through a raw TLS client, then holds the connection open
// while the server's recv() runs with @deadline and @stall_limit.
struct StallResult {
    std::optional<Result<h::Message>> received;
    Clock::duration took{};
    bool still_open = true;
};

StallResult stall_after(const h::Bytes& client_bytes, Clock::duration deadline, Clock::duration stall_limit)
{
    auto server_tls = tls_with(handoff::ControlTls::Role::server, 7);
    auto client_tls = tls_with(handoff::ControlTls::Role::client, 7);
    StallResult out;
    boost::asio::io_context ioc;
    std::unique_ptr<handoff::ControlChannel::Stream> client;
    handoff::ChannelKeys client_keys;
    Loopback lo(ioc);

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await lo.accept_one(server_tls);
        EXPECT_TRUE(ch.ok());
        if (!ch)
            co_return;
        auto start = Clock::now();
        out.received = co_await (*ch)->recv(start + deadline, stall_limit);
        out.took = Clock::now() - start;
        out.still_open = (*ch)->is_open();
        ioc.stop();
    }, rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        client = co_await raw_client(client_tls, lo.endpoint(), client_keys);
        if (!client_bytes.empty())
            co_await boost::asio::async_write(*client, boost::asio::buffer(client_bytes), use_awaitable);
        // ...and say nothing more.
    }, rethrow);
    ioc.run_for(test_budget);
    return out;
}

TEST(ControlChannel, PeerStallingMidPayloadFailsAtTheDeadline)
{
    auto frame = frame_of(one_of_each()[0]);
    frame.resize(frame.size() - 5);
    auto r = stall_after(frame, 400ms, Clock::duration::max());
    ASSERT_TRUE(r.received.has_value());
    ASSERT_FALSE(r.received->ok());
    EXPECT_EQ(r.received->error().code, ETIMEDOUT) << r.received->error().message;
    EXPECT_GE(r.took, 350ms);
    EXPECT_LT(r.took, 2s);
    EXPECT_FALSE(r.still_open);
}

TEST(ControlChannel, PeerStallingMidHeaderFailsAtTheStallLimit)
{
    // The reader waits forever for a frame to start, but not for it to finish.
    auto frame = frame_of(one_of_each()[2]);
    frame.resize(3);
    auto r = stall_after(frame, Clock::duration::max() / 2, 300ms);
    ASSERT_TRUE(r.received.has_value());
    ASSERT_FALSE(r.received->ok());
    EXPECT_EQ(r.received->error().code, ETIMEDOUT) << r.received->error().message;
    EXPECT_NE(r.received->error().message.find("stalled"), std::string::npos) << r.received->error().message;
    EXPECT_GE(r.took, 250ms);
    EXPECT_LT(r.took, 2s);
}

TEST(ControlChannel, SilentPeerFailsAtTheDeadline)
{
    auto r = stall_after({}, 300ms, Clock::duration::max());
    ASSERT_TRUE(r.received.has_value());
    ASSERT_FALSE(r.received->ok());
    EXPECT_EQ(r.received->error().code, ETIMEDOUT);
    EXPECT_GE(r.took, 250ms);
    EXPECT_LT(r.took, 2s);
}

TEST(ControlChannel, OversizedFrameDropsTheConnection)
{
    auto frame = raw_frame(h::frame_magic, h::protocol_version, 3, h::Bytes(64, 0));
    auto r = stall_after(frame, 5s, 5s);
    ASSERT_TRUE(r.received.has_value());
    ASSERT_FALSE(r.received->ok());
    EXPECT_NE(r.received->error().message.find("exceeds its limit"), std::string::npos) << r.received->error().message;
    EXPECT_LT(r.took, 1s);
    EXPECT_FALSE(r.still_open);
}

TEST(ControlChannel, UnknownVersionDropsTheConnection)
{
    auto r = stall_after(raw_frame(h::frame_magic, 9, 3, h::Bytes(8, 0)), 5s, 5s);
    ASSERT_TRUE(r.received.has_value());
    ASSERT_FALSE(r.received->ok());
    EXPECT_NE(r.received->error().message.find("unsupported protocol version 9"), std::string::npos)
        << r.received->error().message;
    EXPECT_FALSE(r.still_open);
}

TEST(ControlChannel, PeerThatClosesIsAnErrorPromptly)
{
    auto server_tls = tls_with(handoff::ControlTls::Role::server, 7);
    auto client_tls = tls_with(handoff::ControlTls::Role::client, 7);
    std::optional<Result<h::Message>> received;
    std::optional<Result<void>> send_after;
    Clock::duration took{};
    boost::asio::io_context ioc;
    Loopback lo(ioc);

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await lo.accept_one(server_tls);
        EXPECT_TRUE(ch.ok());
        if (!ch)
            co_return;
        auto start = Clock::now();
        received = co_await (*ch)->recv(deadline_in(5s));
        took = Clock::now() - start;
        h::Message done = h::Done{.flow_id = 1};
        send_after = co_await (*ch)->send(done, deadline_in(5s));
    }, rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await handoff::connect_channel(client_tls, lo.endpoint(), deadline_in(5s));
        EXPECT_TRUE(ch.ok());
        if (ch)
            (*ch)->close("test is done with it");
    }, rethrow);
    ioc.run_for(test_budget);

    ASSERT_TRUE(received.has_value());
    ASSERT_FALSE(received->ok());
    EXPECT_NE(received->error().message.find("peer closed"), std::string::npos) << received->error().message;
    EXPECT_LT(took, 1s);
    ASSERT_TRUE(send_after.has_value());
    EXPECT_FALSE(send_after->ok());
}

TEST(ControlChannel, SendToAPeerThatDoesNotReadFailsAtTheDeadline)
{
    auto server_tls = tls_with(handoff::ControlTls::Role::server, 7);
    auto client_tls = tls_with(handoff::ControlTls::Role::client, 7);
    std::optional<Result<void>> failed;
    int sent_ok = 0;
    Clock::duration overshoot{};
    boost::asio::io_context ioc;
    std::unique_ptr<handoff::ControlChannel> server_side;
    Loopback lo(ioc);

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await lo.accept_one(server_tls);
        if (ch)
            server_side = std::move(*ch); // accepted, never read
    }, rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await handoff::connect_channel(client_tls, lo.endpoint(), deadline_in(5s));
        EXPECT_TRUE(ch.ok());
        if (!ch)
            co_return;
        h::Offer big{.flow_id = 1, .tcp_state = h::Bytes(h::max_tcp_state), .read_ahead = {}, .app_payload = {},
                     .ticket = {}};
        for (int i = 0; i < 32 && !failed; ++i) {
            auto deadline = deadline_in(300ms);
            auto r = co_await (*ch)->send(big, deadline);
            if (r) {
                ++sent_ok;
            } else {
                overshoot = Clock::now() - deadline;
                failed = r;
            }
        }
        ioc.stop();
    }, rethrow);
    ioc.run_for(test_budget);

    ASSERT_TRUE(failed.has_value()) << sent_ok << " frames of 8 MiB went through";
    EXPECT_EQ(failed->error().code, ETIMEDOUT) << failed->error().message;
    EXPECT_LT(overshoot, 500ms);
}

// --- several flows on one channel -------------------------------------------

// The responder side: collect every OFFER, answer them in reverse order
// (so replies arrive in a different order than requests), then finish each
// flow after its GO.
awaitable<int> responder(handoff::FlowMux& mux, int flows)
{
    std::vector<h::Offer> offers;
    while (static_cast<int>(offers.size()) < flows) {
        auto m = co_await mux.next_unclaimed(deadline_in(5s));
        if (!m)
            co_return -1;
        offers.push_back(std::get<h::Offer>(*m));
    }
    int done = 0;
    for (auto it = offers.rbegin(); it != offers.rend(); ++it) {
        EXPECT_EQ(it->ticket, bytes_of("ticket-" + std::to_string(it->flow_id)));
        EXPECT_TRUE(mux.open_flow(it->flow_id).ok());
        auto port = static_cast<std::uint16_t>(10000 + it->flow_id);
        h::Message ready = h::Ready{.flow_id = it->flow_id, .local_address = {}, .local_port = port};
        auto sent = co_await mux.send(ready, deadline_in(5s));
        EXPECT_TRUE(sent.ok());
    }
    for (const auto& offer : offers) {
        auto go = co_await mux.next(offer.flow_id, deadline_in(5s));
        if (go && std::holds_alternative<h::Go>(*go) && h::flow_id(*go) == offer.flow_id) {
            h::Message reply = h::Done{.flow_id = offer.flow_id};
            auto sent = co_await mux.send(reply, deadline_in(5s));
            done += sent.ok();
        }
        mux.close_flow(offer.flow_id);
    }
    co_return done;
}

// The gateway side of one flow.
awaitable<bool> handoff_flow(handoff::FlowMux& mux, std::uint64_t flow)
{
    if (!mux.open_flow(flow).ok())
        co_return false;
    auto ticket = bytes_of("ticket-" + std::to_string(flow));
    h::Offer offer{.flow_id = flow, .tcp_state = h::Bytes(100 * flow), .read_ahead = {}, .app_payload = {},
                   .ticket = ticket};
    if (!(co_await mux.send(offer, deadline_in(5s))).ok())
        co_return false;
    auto ready = co_await mux.next(flow, deadline_in(5s));
    if (!ready || !std::holds_alternative<h::Ready>(*ready))
        co_return false;
    if (std::get<h::Ready>(*ready).flow_id != flow || std::get<h::Ready>(*ready).local_port != 10000 + flow)
        co_return false;
    h::Message go = h::Go{.flow_id = flow};
    auto sent_go = co_await mux.send(go, deadline_in(5s));
    if (!sent_go)
        co_return false;
    auto done = co_await mux.next(flow, deadline_in(5s));
    mux.close_flow(flow);
    co_return done && *done == h::Message{h::Done{.flow_id = flow}};
}

TEST(FlowMux, ConcurrentFlowsKeepTheirCorrelation)
{
    constexpr int flows = 16;
    auto server_tls = tls_with(handoff::ControlTls::Role::server, 7);
    auto client_tls = tls_with(handoff::ControlTls::Role::client, 7);
    int responder_done = -2;
    int gateway_ok = 0, gateway_finished = 0;
    boost::asio::io_context ioc;
    std::unique_ptr<handoff::ControlChannel> server_ch, client_ch;
    std::unique_ptr<handoff::FlowMux> server_mux, client_mux;
    Loopback lo(ioc);

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await lo.accept_one(server_tls);
        EXPECT_TRUE(ch.ok());
        if (!ch)
            co_return;
        server_ch = std::move(*ch);
        server_mux = std::make_unique<handoff::FlowMux>(*server_ch, handoff::FlowMux::Limits{});
        boost::asio::co_spawn(ioc, server_mux->run(1s), [](std::exception_ptr e, Error) { rethrow(e); });
        responder_done = co_await responder(*server_mux, flows);
    }, rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await handoff::connect_channel(client_tls, lo.endpoint(), deadline_in(5s));
        EXPECT_TRUE(ch.ok());
        if (!ch)
            co_return;
        client_ch = std::move(*ch);
        client_mux = std::make_unique<handoff::FlowMux>(*client_ch, handoff::FlowMux::Limits{.per_flow = 4, .unclaimed = 0});
        boost::asio::co_spawn(ioc, client_mux->run(1s), [](std::exception_ptr e, Error) { rethrow(e); });
        for (std::uint64_t flow = 1; flow <= flows; ++flow)
            boost::asio::co_spawn(ioc, handoff_flow(*client_mux, flow), [&](std::exception_ptr e, bool ok) {
                rethrow(e);
                gateway_ok += ok;
                if (++gateway_finished == flows)
                    client_ch->close("all flows finished");
            });
    }, rethrow);
    ioc.run_for(test_budget);

    EXPECT_EQ(gateway_finished, flows);
    EXPECT_EQ(gateway_ok, flows);
    EXPECT_EQ(responder_done, flows);
}

TEST(FlowMux, WaitingForAReplyTimesOutWithoutKillingTheChannel)
{
    auto server_tls = tls_with(handoff::ControlTls::Role::server, 7);
    auto client_tls = tls_with(handoff::ControlTls::Role::client, 7);
    std::optional<Result<h::Message>> timed_out, later;
    boost::asio::io_context ioc;
    std::unique_ptr<handoff::ControlChannel> server_ch, client_ch;
    std::unique_ptr<handoff::FlowMux> mux;
    Loopback lo(ioc);

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await lo.accept_one(server_tls);
        EXPECT_TRUE(ch.ok());
        if (!ch)
            co_return;
        server_ch = std::move(*ch);
        auto offer = co_await server_ch->recv(deadline_in(5s)); // ...and no reply for a while
        EXPECT_TRUE(offer.ok());
        boost::asio::steady_timer pause(ioc, 400ms);
        co_await pause.async_wait(use_awaitable);
        h::Message refuse = h::Refuse{.flow_id = 5, .reason = h::RefuseReason::busy, .text = "busy"};
        auto sent = co_await server_ch->send(refuse, deadline_in(5s));
        EXPECT_TRUE(sent.ok());
    }, rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto ch = co_await handoff::connect_channel(client_tls, lo.endpoint(), deadline_in(5s));
        EXPECT_TRUE(ch.ok());
        if (!ch)
            co_return;
        client_ch = std::move(*ch);
        mux = std::make_unique<handoff::FlowMux>(*client_ch, handoff::FlowMux::Limits{});
        boost::asio::co_spawn(ioc, mux->run(1s), [](std::exception_ptr e, Error) { rethrow(e); });
        EXPECT_TRUE(mux->open_flow(5).ok());
        EXPECT_FALSE(mux->open_flow(5).ok());
        h::Message offer = one_of_each()[0];
        auto sent = co_await mux->send(offer, deadline_in(5s));
        EXPECT_TRUE(sent.ok());
        timed_out = co_await mux->next(5, deadline_in(100ms));
        later = co_await mux->next(5, deadline_in(5s));
        client_ch->close("done");
    }, rethrow);
    ioc.run_for(test_budget);

    ASSERT_TRUE(timed_out.has_value());
    ASSERT_FALSE(timed_out->ok());
    EXPECT_EQ(timed_out->error().code, ETIMEDOUT);
    ASSERT_TRUE(later.has_value());
    ASSERT_TRUE(later->ok()) << later->error().message;
    EXPECT_EQ(std::get<h::Refuse>(**later).reason, h::RefuseReason::busy);
}

} // namespace
} // namespace xo
