// Device index and MAC lookups (if_nametoindex, SIOCGIFHWADDR).
#include "bpf/netdev.h"

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xo::bpf {

Result<int> ifindex_of(const std::string& ifname)
{
    unsigned int index = if_nametoindex(ifname.c_str());
    if (index == 0)
        return Error::from_errno("find device " + ifname);
    return static_cast<int>(index);
}

Result<Mac> mac_of(const std::string& ifname)
{
    if (ifname.size() >= IFNAMSIZ)
        return Error{"device name too long: " + ifname, EINVAL};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return Error::from_errno("socket for SIOCGIFHWADDR");
    ifreq req {};
    std::memcpy(req.ifr_name, ifname.c_str(), ifname.size());
    int rc = ioctl(fd, SIOCGIFHWADDR, &req);
    int err = errno;
    close(fd);
    if (rc != 0)
        return Error::from_errno("read MAC of " + ifname, err);
    if (req.ifr_hwaddr.sa_family != ARPHRD_ETHER)
        return Error{ifname + " is not an Ethernet device", EINVAL};
    Mac mac;
    std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, mac.size());
    return mac;
}

} // namespace xo::bpf
