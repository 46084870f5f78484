// Theory of operation: test frames built byte by byte, independent of the
// code under test. build_frame() writes Ethernet + IPv4/IPv6 + TCP (options
// and payload), UDP or ICMP with every checksum computed from scratch;
// FrameView reads fields back from a frame and re-verifies its checksums
// from scratch, so a test never trusts the incremental updates it checks.
// Mutators for malformed frames are plain byte edits done by the tests.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace xo::test {

using Bytes = std::vector<std::uint8_t>;
using MacAddr = std::array<std::uint8_t, 6>;

constexpr std::size_t kEthLen = 14;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kProtoIcmp = 1;
constexpr std::uint8_t kProtoIcmp6 = 58;

/** struct FrameSpec - what build_frame() writes. */
struct FrameSpec {
    bool ipv6 = false;
    std::string src = "198.18.0.10"; ///< textual address of the right family
    std::string dst = "198.18.0.1";
    std::uint16_t sport = 40000;
    std::uint16_t dport = 80;
    MacAddr src_mac {0x02, 0, 0, 0, 0, 0x0a};
    MacAddr dst_mac {0x02, 0, 0, 0, 0, 0x01};
    std::uint8_t protocol = kProtoTcp; ///< TCP, UDP or ICMP (ICMPv6 for ipv6)
    std::uint8_t tcp_flags = 0x18;     ///< PSH|ACK
    std::uint32_t ack = 1;             ///< TCP acknowledgment number
    /// MSS 1460, SACK permitted, timestamps, NOP: 20 bytes of TCP options.
    Bytes tcp_options {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 1, 1};
    std::string payload = "GET /bucket/object HTTP/1.1\r\nHost: s3\r\n\r\n";
};

/** build_frame() - the frame @spec describes, all checksums correct. */
Bytes build_frame(const FrameSpec& spec);

/** build_arp_request() - an ARP who-has frame. */
Bytes build_arp_request();

/** inet_sum() - one's complement sum of @len bytes, not folded or inverted. */
std::uint32_t inet_sum(const std::uint8_t* data, std::size_t len, std::uint32_t sum = 0);

/** fold() - fold a 32-bit accumulator to 16 bits (not inverted). */
std::uint16_t fold(std::uint32_t sum);

/** class FrameView - field access and from-scratch checks on a TCP frame. */
class FrameView {
public:
    explicit FrameView(const Bytes& frame) : f_(frame) {}

    bool ipv6() const;
    MacAddr dst_mac() const;
    MacAddr src_mac() const;
    std::string src_ip() const;
    std::string dst_ip() const;
    std::uint16_t sport() const;
    std::uint16_t dport() const;
    std::size_t l4_offset() const;
    std::uint16_t tcp_check_field() const;

    /** ip_checksum_ok() - IPv4 header sums to 0xffff (always true for IPv6). */
    bool ip_checksum_ok() const;
    /** l4_checksum_ok() - pseudo header + segment sum to 0xffff. */
    bool l4_checksum_ok() const;
    /** pseudo_sum() - folded pseudo-header sum (what a partial checksum field holds). */
    std::uint16_t pseudo_sum() const;

private:
    std::uint16_t be16(std::size_t off) const;
    std::size_t l4_length() const;

    const Bytes& f_;
};

} // namespace xo::test
