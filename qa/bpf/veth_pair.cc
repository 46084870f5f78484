#include "qa/bpf/veth_pair.h"

#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

namespace xo::test {

namespace {

Result<void> set_up(flower::NetlinkSocket& sock, const std::string& name)
{
    rtnl_link* link = rtnl_link_alloc();
    rtnl_link* up = rtnl_link_alloc();
    Result<void> r = Error{"link: no memory", ENOMEM};
    if (link && up) {
        rtnl_link_set_ifindex(link, static_cast<int>(if_nametoindex(name.c_str())));
        rtnl_link_set_flags(up, IFF_UP);
        r = sock.check(rtnl_link_change(sock.get(), link, up, 0), "setting " + name + " up");
    }
    rtnl_link_put(up);
    rtnl_link_put(link);
    return r;
}

Result<void> add_address(flower::NetlinkSocket& sock, const std::string& name, const std::string& cidr)
{
    rtnl_addr* addr = rtnl_addr_alloc();
    nl_addr* local = nullptr;
    Result<void> r = Error{"address: no memory", ENOMEM};
    if (addr && nl_addr_parse(cidr.c_str(), AF_UNSPEC, &local) == 0) {
        rtnl_addr_set_ifindex(addr, static_cast<int>(if_nametoindex(name.c_str())));
        rtnl_addr_set_local(addr, local);
        r = sock.check(rtnl_addr_add(sock.get(), addr, 0), "adding " + cidr + " to " + name);
    }
    nl_addr_put(local);
    rtnl_addr_put(addr);
    return r;
}

} // namespace

Result<void> add_veth_pair(flower::NetlinkSocket& sock, const std::string& name, const std::string& peer,
                           const std::string& cidr)
{
    rtnl_link* veth = rtnl_link_veth_alloc();
    if (!veth)
        return Error{"veth: no memory", ENOMEM};
    rtnl_link_set_name(veth, name.c_str());
    rtnl_link_set_name(rtnl_link_veth_get_peer(veth), peer.c_str());
    auto added = sock.check(rtnl_link_add(sock.get(), veth, NLM_F_CREATE | NLM_F_EXCL), "adding veth " + name);
    rtnl_link_veth_release(veth);
    if (!added)
        return added;
    for (const auto& end : {name, peer})
        if (auto r = set_up(sock, end); !r)
            return r;
    return add_address(sock, name, cidr);
}

} // namespace xo::test
