// Kernel tests (TCP_REPAIR, restored sockets) run in a network namespace of
// their own with only loopback up, so they touch nothing of the machine's and
// leave nothing behind. The calling thread moves in at SetUp and back at
// TearDown; a test without CAP_NET_ADMIN is SKIPPED with the reason.
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "common/unique_fd.h"

namespace xo::test {

/** has_cap_net_admin() - whether this process may use TCP_REPAIR and create namespaces. */
inline bool has_cap_net_admin()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("CapEff:", 0) == 0)
            return (std::stoull(line.substr(7), nullptr, 16) >> 12) & 1; // CAP_NET_ADMIN
    return false;
}

/** The calling thread in a fresh network namespace with loopback up, until leave(). */
class PrivateNetns {
public:
    /**
     * enter() - move in.
     *
     * Return: nullopt once inside; else why the test cannot run here, for
     * GTEST_SKIP (a failure to set the namespace up is also reported as one).
     */
    std::optional<std::string> enter()
    {
        if (!has_cap_net_admin())
            return "SKIPPED: TCP_REPAIR and network namespaces need CAP_NET_ADMIN";
        original_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        if (!original_.valid())
            return failed("open this thread's network namespace");
        if (::unshare(CLONE_NEWNET) != 0)
            return "SKIPPED: cannot create a network namespace: " + std::string(std::strerror(errno));
        UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        ifreq ifr{};
        std::snprintf(ifr.ifr_name, IFNAMSIZ, "lo");
        ifr.ifr_flags = IFF_UP;
        if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0)
            return failed("bring lo up");
        return std::nullopt;
    }

    /** leave() - back to the namespace enter() left. */
    void leave()
    {
        if (original_.valid()) {
            EXPECT_EQ(::setns(original_.get(), CLONE_NEWNET), 0) << std::strerror(errno);
        }
        original_.reset();
    }

private:
    static std::string failed(const std::string& what)
    {
        std::string why = what + ": " + std::strerror(errno);
        ADD_FAILURE() << why;
        return why;
    }
    UniqueFd original_;
};

} // namespace xo::test
