// Frame construction and from-scratch checksum verification for the tests.
#include "qa/bpf/packet_builder.h"

#include <arpa/inet.h>

#include <cstring>
#include <stdexcept>

namespace xo::test {
namespace {

void put16(Bytes& b, std::size_t off, std::uint16_t v)
{
    b[off] = static_cast<std::uint8_t>(v >> 8);
    b[off + 1] = static_cast<std::uint8_t>(v);
}

/** address_bytes() - network-order bytes of a literal address (test input, must parse). */
Bytes address_bytes(const std::string& text, bool ipv6)
{
    Bytes out(ipv6 ? 16 : 4);
    if (inet_pton(ipv6 ? AF_INET6 : AF_INET, text.c_str(), out.data()) != 1)
        throw std::invalid_argument("bad test address " + text);
    return out;
}

std::uint32_t pseudo_header_sum(const Bytes& src, const Bytes& dst, std::uint8_t proto,
                                std::size_t l4_len)
{
    std::uint32_t sum = inet_sum(src.data(), src.size());
    sum = inet_sum(dst.data(), dst.size(), sum);
    return sum + proto + static_cast<std::uint32_t>(l4_len);
}

Bytes l4_segment(const FrameSpec& spec)
{
    Bytes seg;
    if (spec.protocol == kProtoTcp) {
        std::size_t hdr = 20 + spec.tcp_options.size();
        seg.assign(hdr, 0);
        put16(seg, 0, spec.sport);
        put16(seg, 2, spec.dport);
        put16(seg, 4, 0x1234); // sequence number
        put16(seg, 8, static_cast<std::uint16_t>(spec.ack >> 16)); // ack number
        put16(seg, 10, static_cast<std::uint16_t>(spec.ack));
        seg[12] = static_cast<std::uint8_t>((hdr / 4) << 4);
        seg[13] = spec.tcp_flags;
        put16(seg, 14, 64240);
        std::memcpy(seg.data() + 20, spec.tcp_options.data(), spec.tcp_options.size());
    } else if (spec.protocol == kProtoUdp) {
        seg.assign(8, 0);
        put16(seg, 0, spec.sport);
        put16(seg, 2, spec.dport);
        put16(seg, 4, static_cast<std::uint16_t>(8 + spec.payload.size()));
    } else {
        seg.assign(8, 0);
        seg[0] = spec.ipv6 ? 128 : 8; // echo request
    }
    seg.insert(seg.end(), spec.payload.begin(), spec.payload.end());
    return seg;
}

std::size_t checksum_offset(std::uint8_t proto)
{
    return proto == kProtoTcp ? 16 : proto == kProtoUdp ? 6 : 2;
}

} // namespace

std::uint32_t inet_sum(const std::uint8_t* data, std::size_t len, std::uint32_t sum)
{
    for (std::size_t i = 0; i + 1 < len; i += 2)
        sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
    if (len % 2)
        sum += static_cast<std::uint32_t>(data[len - 1] << 8);
    return sum;
}

std::uint16_t fold(std::uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

Bytes build_frame(const FrameSpec& spec)
{
    Bytes src = address_bytes(spec.src, spec.ipv6);
    Bytes dst = address_bytes(spec.dst, spec.ipv6);
    std::uint8_t proto = spec.protocol == kProtoIcmp && spec.ipv6 ? kProtoIcmp6 : spec.protocol;
    Bytes seg = l4_segment(spec);

    // ICMPv4's checksum covers no pseudo header; every other one does.
    std::uint32_t sum = proto == kProtoIcmp ? 0 : pseudo_header_sum(src, dst, proto, seg.size());
    put16(seg, checksum_offset(spec.protocol), static_cast<std::uint16_t>(~fold(inet_sum(seg.data(), seg.size(), sum))));

    Bytes frame(kEthLen, 0);
    std::memcpy(frame.data(), spec.dst_mac.data(), 6);
    std::memcpy(frame.data() + 6, spec.src_mac.data(), 6);
    put16(frame, 12, spec.ipv6 ? 0x86dd : 0x0800);
    Bytes ip(spec.ipv6 ? 40 : 20, 0);
    if (spec.ipv6) {
        ip[0] = 0x60;
        put16(ip, 4, static_cast<std::uint16_t>(seg.size()));
        ip[6] = proto;
        ip[7] = 64;
        std::memcpy(ip.data() + 8, src.data(), 16);
        std::memcpy(ip.data() + 24, dst.data(), 16);
    } else {
        ip[0] = 0x45;
        put16(ip, 2, static_cast<std::uint16_t>(20 + seg.size()));
        put16(ip, 4, 0x4242); // id
        put16(ip, 6, 0x4000); // DF
        ip[8] = 64;
        ip[9] = proto;
        std::memcpy(ip.data() + 12, src.data(), 4);
        std::memcpy(ip.data() + 16, dst.data(), 4);
        put16(ip, 10, static_cast<std::uint16_t>(~fold(inet_sum(ip.data(), ip.size()))));
    }
    frame.insert(frame.end(), ip.begin(), ip.end());
    frame.insert(frame.end(), seg.begin(), seg.end());
    return frame;
}

Bytes build_arp_request()
{
    Bytes frame(kEthLen + 28, 0);
    std::memset(frame.data(), 0xff, 6);
    frame[6] = 0x02;
    put16(frame, 12, 0x0806);
    put16(frame, 14, 1);      // Ethernet
    put16(frame, 16, 0x0800); // IPv4
    frame[18] = 6;
    frame[19] = 4;
    put16(frame, 20, 1); // request
    return frame;
}

bool FrameView::ipv6() const
{
    return be16(12) == 0x86dd;
}

MacAddr FrameView::dst_mac() const
{
    MacAddr m;
    std::memcpy(m.data(), f_.data(), 6);
    return m;
}

MacAddr FrameView::src_mac() const
{
    MacAddr m;
    std::memcpy(m.data(), f_.data() + 6, 6);
    return m;
}

std::string FrameView::src_ip() const
{
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(ipv6() ? AF_INET6 : AF_INET, f_.data() + kEthLen + (ipv6() ? 8 : 12), text, sizeof(text));
    return text;
}

std::string FrameView::dst_ip() const
{
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(ipv6() ? AF_INET6 : AF_INET, f_.data() + kEthLen + (ipv6() ? 24 : 16), text, sizeof(text));
    return text;
}

std::size_t FrameView::l4_offset() const
{
    return kEthLen + (ipv6() ? 40 : (f_[kEthLen] & 0x0f) * 4);
}

std::uint16_t FrameView::sport() const { return be16(l4_offset()); }
std::uint16_t FrameView::dport() const { return be16(l4_offset() + 2); }
std::uint16_t FrameView::tcp_check_field() const { return be16(l4_offset() + 16); }

std::uint16_t FrameView::be16(std::size_t off) const
{
    return static_cast<std::uint16_t>(f_.at(off) << 8 | f_.at(off + 1));
}

std::size_t FrameView::l4_length() const
{
    if (ipv6())
        return be16(kEthLen + 4);
    return be16(kEthLen + 2) - (f_[kEthLen] & 0x0f) * 4u;
}

bool FrameView::ip_checksum_ok() const
{
    if (ipv6())
        return true;
    return fold(inet_sum(f_.data() + kEthLen, (f_[kEthLen] & 0x0f) * 4u)) == 0xffff;
}

std::uint16_t FrameView::pseudo_sum() const
{
    std::size_t addr_off = kEthLen + (ipv6() ? 8 : 12);
    std::size_t addr_len = ipv6() ? 32 : 8;
    std::uint32_t sum = inet_sum(f_.data() + addr_off, addr_len);
    return fold(sum + kProtoTcp + static_cast<std::uint32_t>(l4_length()));
}

bool FrameView::l4_checksum_ok() const
{
    std::uint32_t sum = inet_sum(f_.data() + l4_offset(), l4_length(), pseudo_sum());
    return fold(sum) == 0xffff;
}

} // namespace xo::test
