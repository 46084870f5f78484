#include "common/open_files.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/log.h"

namespace xo {

namespace {

/** nr_open() - the kernel's ceiling for RLIMIT_NOFILE (fs.nr_open), 0 if unreadable. */
rlim_t nr_open()
{
    std::ifstream in("/proc/sys/fs/nr_open");
    unsigned long long value = 0;
    in >> value;
    return in ? static_cast<rlim_t>(value) : 0;
}

} // namespace

std::uint64_t raise_open_files_limit()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        log::warn("getrlimit(RLIMIT_NOFILE): ", std::strerror(errno));
        return 1024;
    }
    rlim_t want = limit.rlim_max;
    if (want == RLIM_INFINITY)
        want = nr_open(); // setting an unlimited soft limit is refused
    if (want > limit.rlim_cur) {
        rlimit raised{want, limit.rlim_max};
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit.rlim_cur = want;
        else
            log::warn("cannot raise the open files limit from ", limit.rlim_cur, " to ", want, ": ",
                      std::strerror(errno));
    }
    return limit.rlim_cur;
}

} // namespace xo
