// Helpers for tests that open control channels on loopback.
//
// Theory of operation: a channel test runs its coroutines on a local
// io_context with run_for(), so a hang shows up as a missing result after a
// few seconds, never as a stuck ctest. Both ends use the same fixed test key
// (unless a test wants a wrong one), and the server end listens on an
// ephemeral 127.0.0.1 port. Exceptions escaping a coroutine fail the test.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "common/handoff/control_channel.h"
#include "common/handoff/control_tls.h"
#include "common/handoff/psk.h"

namespace xo::test {

/** tls_with() - a ControlTls for @role whose key is PresharedKey::key_size bytes of @fill, named @id. */
inline std::shared_ptr<handoff::ControlTls> tls_with(handoff::ControlTls::Role role, std::uint8_t fill, std::string id = "xo-test")
{
    std::vector<std::uint8_t> secret(handoff::PresharedKey::key_size, fill);
    auto key = handoff::PresharedKey::from_bytes(std::move(id), secret);
    EXPECT_TRUE(key.ok());
    std::vector<handoff::PresharedKey> keys;
    keys.push_back(std::move(*key));
    auto ring = handoff::Keyring::of(std::move(keys));
    EXPECT_TRUE(ring.ok());
    auto shared = std::make_shared<const handoff::Keyring>(std::move(*ring));
    auto tls = handoff::ControlTls::make(role, [shared](const boost::asio::ip::address&) {
        return Result<std::shared_ptr<const handoff::Keyring>>(shared);
    });
    EXPECT_TRUE(tls.ok()) << tls.error().message;
    return *tls;
}

/** rethrow() - co_spawn completion: an exception a coroutine let escape reaches the test. */
inline void rethrow(std::exception_ptr e)
{
    if (e)
        std::rethrow_exception(e);
}

/** Loopback - a listening server endpoint on an ephemeral loopback port. */
struct Loopback {
    explicit Loopback(boost::asio::io_context& ioc)
        : acceptor(ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0))
    {
    }
    boost::asio::ip::tcp::endpoint endpoint() const { return acceptor.local_endpoint(); }

    /** accept_one() - the next connection, authenticated as a server with @tls. */
    boost::asio::awaitable<Result<std::unique_ptr<handoff::ControlChannel>>> accept_one(std::shared_ptr<handoff::ControlTls> tls)
    {
        auto socket = co_await acceptor.async_accept(boost::asio::use_awaitable);
        auto deadline = deadline_in(std::chrono::seconds(5));
        co_return co_await handoff::accept_channel(std::move(tls), std::move(socket), deadline);
    }

    boost::asio::ip::tcp::acceptor acceptor;
};

} // namespace xo::test
