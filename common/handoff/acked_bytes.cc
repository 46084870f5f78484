// acked_bytes() (socket_ops.h) in a file of its own: it needs the kernel's
// <linux/tcp.h>, whose struct tcp_info has the newer fields (tcpi_bytes_acked)
// that glibc's <netinet/tcp.h> lacks, and the two headers cannot be combined.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "common/result.h"

namespace xo::handoff {

Result<std::uint64_t> acked_bytes(int fd)
{
    tcp_info info {};
    socklen_t len = sizeof(info);
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
        return Error::from_errno("TCP_INFO");
    if (len < offsetof(tcp_info, tcpi_bytes_acked) + sizeof(info.tcpi_bytes_acked))
        return Error{"TCP_INFO has no tcpi_bytes_acked (kernel older than 4.2)", ENOTSUP};
    return static_cast<std::uint64_t>(info.tcpi_bytes_acked);
}

} // namespace xo::handoff
