#include "common/core_dumps.h"

#include <sys/prctl.h>
#include <sys/resource.h>

namespace xo {

Result<void> forbid_core_dumps()
{
    const rlimit none{0, 0};
    if (::setrlimit(RLIMIT_CORE, &none) != 0)
        return Error::from_errno("setrlimit(RLIMIT_CORE, 0)");
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return Error::from_errno("prctl(PR_SET_DUMPABLE, 0)");
    return {};
}

} // namespace xo
