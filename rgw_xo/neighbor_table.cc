#include "rgw_xo/neighbor_table.h"

#include <linux/neighbour.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>

#include <cstring>
#include <memory>

namespace xo::gw {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

constexpr int usable_states = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;

} // namespace

Result<Mac> neighbor_mac(const std::string& ifname, const boost::asio::ip::address& address)
{
    const std::string what = "neighbour " + address.to_string() + " on " + ifname;
    unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0)
        return Error::from_errno(what + ": interface");

    Owned<nl_sock, nl_socket_free> sock(nl_socket_alloc());
    if (!sock)
        return Error{what + ": out of memory"};
    if (int r = nl_connect(sock.get(), NETLINK_ROUTE); r < 0)
        return Error{what + ": netlink: " + nl_geterror(r)};
    nl_cache* raw_cache = nullptr;
    if (int r = rtnl_neigh_alloc_cache(sock.get(), &raw_cache); r < 0)
        return Error{what + ": reading the neighbour table: " + nl_geterror(r)};
    Owned<nl_cache, nl_cache_free> cache(raw_cache);

    Owned<nl_addr, nl_addr_put> dst;
    if (address.is_v4()) {
        auto bytes = address.to_v4().to_bytes();
        dst.reset(nl_addr_build(AF_INET, bytes.data(), bytes.size()));
    } else {
        auto bytes = address.to_v6().to_bytes();
        dst.reset(nl_addr_build(AF_INET6, bytes.data(), bytes.size()));
    }
    if (!dst)
        return Error{what + ": out of memory"};
    Owned<rtnl_neigh, rtnl_neigh_put> neigh(rtnl_neigh_get(cache.get(), static_cast<int>(ifindex), dst.get()));
    if (!neigh || (rtnl_neigh_get_state(neigh.get()) & usable_states) == 0)
        return Error{what + ": no usable entry"};
    nl_addr* ll = rtnl_neigh_get_lladdr(neigh.get());
    Mac mac {};
    if (!ll || nl_addr_get_len(ll) != mac.size())
        return Error{what + ": no Ethernet address"};
    std::memcpy(mac.data(), nl_addr_get_binary_addr(ll), mac.size());
    return mac;
}

} // namespace xo::gw
