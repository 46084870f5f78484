// Endpoint → BPF map key and address conversion.
#include "bpf/flow_key.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

#include "common/endpoint.h"

namespace xo::bpf {

WireAddress wire_address(const boost::asio::ip::address& addr)
{
    WireAddress out;
    boost::asio::ip::address_v4 v4;
    if (addr.is_v4()) {
        v4 = addr.to_v4();
    } else if (addr.to_v6().is_v4_mapped()) {
        v4 = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6());
    } else {
        auto bytes = addr.to_v6().to_bytes();
        out.family = XO_FAMILY_IPV6;
        std::memcpy(out.words.data(), bytes.data(), bytes.size());
        return out;
    }
    out.family = XO_FAMILY_IPV4;
    out.words[0] = htonl(v4.to_uint());
    return out;
}

Result<xo_flow_key> flow_key(const Endpoint& src, const Endpoint& dst)
{
    WireAddress s = wire_address(src.address());
    WireAddress d = wire_address(dst.address());
    if (s.family != d.family)
        return Error{"flow " + to_string(src) + " -> " + to_string(dst) + " mixes address families",
                     EINVAL};
    xo_flow_key key {};
    key.family = s.family;
    key.sport = htons(src.port());
    key.dport = htons(dst.port());
    std::memcpy(key.saddr, s.words.data(), sizeof(key.saddr));
    std::memcpy(key.daddr, d.words.data(), sizeof(key.daddr));
    return key;
}

} // namespace xo::bpf
