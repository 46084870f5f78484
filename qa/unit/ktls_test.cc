// Kernel TLS send path against the project's own record layer: a TCP
// socket on loopback gets the "tls" ULP and a TLS_TX state built from a
// DirectionState the way a responder would install a migrated one (key, IV,
// next sequence number not zero); the kernel seals what is sent; the peer
// reads the raw bytes and opens them with tls::Opener continuing the same
// state. Then getsockopt(TLS_TX) must report the advanced sequence number,
// which is what a connection returning to the gateway would carry back.
// Where the kernel offers no "tls" ULP (osd_xo/ktls_probe.h: this project's
// development kernel has no CONFIG_TLS) every test is SKIPPED with the
// reason; qa/vm/kernel-matrix.sh runs them on a kernel that has it.
#include <gtest/gtest.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "osd_xo/ktls_probe.h"
#include "common/tls/record_layer.h"
#include "common/unique_fd.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

namespace {

using xo::UniqueFd;
using xo::tls::DirectionState;
using xo::tls::Version;

struct Pair {
    UniqueFd sender;
    UniqueFd receiver;
};

/** loopback_pair() - a connected TCP pair on 127.0.0.1 (ephemeral port). */
Pair loopback_pair()
{
    UniqueFd listener(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(listener.get(), 1), 0);
    EXPECT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    Pair pair;
    pair.sender.reset(::socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_EQ(::connect(pair.sender.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
        << std::strerror(errno);
    pair.receiver.reset(::accept(listener.get(), nullptr, nullptr));
    return pair;
}

void put_be64(std::uint64_t value, unsigned char* out)
{
    for (int i = 7; i >= 0; --i, value >>= 8)
        out[i] = static_cast<unsigned char>(value);
}

std::uint64_t get_be64(const unsigned char* in)
{
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i)
        value = value << 8 | in[i];
    return value;
}

/**
 * CryptoInfo - @state in the kernel's AES-GCM layout: TLS 1.3 splits the
 * 12-byte IV into salt (4) and iv (8); TLS 1.2 has the 4-byte salt and an
 * explicit nonce, which the record layer takes to be the sequence number.
 */
template <typename Info, std::uint16_t cipher>
Info crypto_info(const DirectionState& state)
{
    Info info{};
    info.info.version = static_cast<std::uint16_t>(state.version);
    info.info.cipher_type = cipher;
    std::memcpy(info.key, state.key.data(), sizeof info.key);
    std::memcpy(info.salt, state.iv.data(), sizeof info.salt);
    if (state.version == Version::tls13)
        std::memcpy(info.iv, state.iv.data() + sizeof info.salt, sizeof info.iv);
    else
        put_be64(state.seq, info.iv);
    put_be64(state.seq, info.rec_seq);
    return info;
}

DirectionState make_state(Version version, std::uint16_t suite, std::size_t key_length, std::size_t iv_length)
{
    DirectionState state;
    state.version = version;
    state.suite = suite;
    for (std::size_t i = 0; i < key_length; ++i)
        state.key.push_back(static_cast<std::uint8_t>(0x40 + i));
    for (std::size_t i = 0; i < iv_length; ++i)
        state.iv.push_back(static_cast<std::uint8_t>(0xa0 + i));
    if (version == Version::tls13)
        state.secret.assign(suite == 0x1302 ? 48 : 32, 0x5a); // only KeyUpdate reads it
    state.seq = 41; // a migrated connection: its handshake records went first
    return state;
}

template <typename Info, std::uint16_t cipher>
void send_and_open(const DirectionState& state)
{
    if (auto available = xo::rsp::kernel_tls_available(); !available)
        GTEST_SKIP() << "no kernel TLS: " << available.error().message;
    Pair pair = loopback_pair();
    ASSERT_TRUE(pair.receiver.valid());
    ASSERT_EQ(::setsockopt(pair.sender.get(), SOL_TCP, TCP_ULP, "tls", sizeof "tls"), 0) << std::strerror(errno);
    Info info = crypto_info<Info, cipher>(state);
    ASSERT_EQ(::setsockopt(pair.sender.get(), SOL_TLS, TLS_TX, &info, sizeof info), 0) << std::strerror(errno);

    // 100,000 bytes: several full 16 KiB records and a short last one.
    std::vector<std::uint8_t> sent(100000);
    for (std::size_t i = 0; i < sent.size(); ++i)
        sent[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    for (std::size_t off = 0; off < sent.size();) {
        ssize_t n = ::send(pair.sender.get(), sent.data() + off, sent.size() - off, 0);
        ASSERT_GT(n, 0) << std::strerror(errno);
        off += static_cast<std::size_t>(n);
    }

    auto opener = xo::tls::Opener::make(state);
    ASSERT_TRUE(opener) << opener.error().message;
    std::vector<std::uint8_t> wire, received;
    std::uint64_t records = 0;
    while (received.size() < sent.size()) {
        std::uint8_t buf[65536];
        ssize_t n = ::recv(pair.receiver.get(), buf, sizeof buf, 0);
        ASSERT_GT(n, 0) << "peer closed or failed after " << received.size() << " bytes";
        wire.insert(wire.end(), buf, buf + n);
        for (;;) {
            xo::tls::Opened opened = opener->open(wire, received);
            if (opened.kind == xo::tls::Opened::Kind::need_more)
                break;
            ASSERT_EQ(opened.kind, xo::tls::Opened::Kind::data) << "record " << records << " did not open";
            wire.erase(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(opened.consumed));
            ++records;
        }
    }
    EXPECT_EQ(received, sent);
    EXPECT_TRUE(wire.empty());
    EXPECT_EQ(opener->state().seq, state.seq + records);

    // The state a RETURN would carry back: the kernel's next sequence number.
    Info back{};
    socklen_t len = sizeof back;
    ASSERT_EQ(::getsockopt(pair.sender.get(), SOL_TLS, TLS_TX, &back, &len), 0) << std::strerror(errno);
    EXPECT_EQ(get_be64(back.rec_seq), state.seq + records);
}

TEST(KernelTls, Tls13Aes128GcmSealsWhatTheRecordLayerOpens)
{
    send_and_open<tls12_crypto_info_aes_gcm_128, TLS_CIPHER_AES_GCM_128>(make_state(Version::tls13, 0x1301, 16, 12));
}

TEST(KernelTls, Tls13Aes256GcmSealsWhatTheRecordLayerOpens)
{
    send_and_open<tls12_crypto_info_aes_gcm_256, TLS_CIPHER_AES_GCM_256>(make_state(Version::tls13, 0x1302, 32, 12));
}

TEST(KernelTls, Tls12Aes128GcmSealsWhatTheRecordLayerOpens)
{
    send_and_open<tls12_crypto_info_aes_gcm_128, TLS_CIPHER_AES_GCM_128>(make_state(Version::tls12, 0xc02f, 16, 4));
}

} // namespace
