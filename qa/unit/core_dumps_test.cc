// forbid_core_dumps(): the process it runs in can no longer dump core or be
// traced. Checked in a child (a death test), so the test binary itself stays as it was.
#include <gtest/gtest.h>

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdlib>

#include "common/core_dumps.h"

namespace {

/** forbidden_in_this_process() - whether RLIMIT_CORE is 0 (soft and hard) and the process not dumpable after the call. */
bool forbidden_in_this_process()
{
    if (!xo::forbid_core_dumps())
        return false;
    rlimit core{};
    return ::getrlimit(RLIMIT_CORE, &core) == 0 && core.rlim_cur == 0 && core.rlim_max == 0 &&
           ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0;
}

TEST(CoreDumps, CoreLimitZeroAndNotDumpable)
{
    EXPECT_EXIT(std::_Exit(forbidden_in_this_process() ? 0 : 1), ::testing::ExitedWithCode(0), "");
}

} // namespace
