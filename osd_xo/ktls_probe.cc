#include "osd_xo/ktls_probe.h"

#include <fstream>
#include <sstream>
#include <string>

namespace xo::rsp {

Result<void> kernel_tls_available()
{
    // Lists the ULPs registered now; a module that could still be loaded is not there yet.
    const char* path = "/proc/sys/net/ipv4/tcp_available_ulp";
    std::ifstream in(path);
    if (!in)
        return Error{std::string("cannot read ") + path};
    std::string line;
    std::getline(in, line);
    std::istringstream names(line);
    for (std::string name; names >> name;)
        if (name == "tls")
            return Result<void>{};
    return Error{std::string("the kernel offers no \"tls\" ULP (") + path + ": \"" + line + "\")"};
}

} // namespace xo::rsp
