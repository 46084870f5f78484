#include "qa/handoff/cli.h"

#include <sstream>

namespace xo::testbed {

Result<void> parse_cli(const boost::program_options::options_description& desc, int argc, char** argv)
{
    namespace po = boost::program_options;
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::ostringstream usage;
        usage << e.what() << "\n" << desc;
        return Error{usage.str()};
    }
    return {};
}

} // namespace xo::testbed
