// Command-line parsing shared by the test-bed daemons: program_options'
// exceptions become an error value carrying the usage text; scaled() applies
// their --limit-scale factor to a protocol limit.
#pragma once

#include <boost/program_options.hpp>

#include "common/deadline.h"
#include "common/result.h"

namespace xo::testbed {

/** parse_cli() - fill the variables bound in @desc from @argv; on a bad or
 * missing option, an Error with the reason followed by the usage. */
Result<void> parse_cli(const boost::program_options::options_description& desc, int argc, char** argv);

/** scaled() - @limit times @factor (--limit-scale), to the clock's resolution. */
inline Clock::duration scaled(Clock::duration limit, double factor)
{
    return std::chrono::duration_cast<Clock::duration>(limit * factor);
}

} // namespace xo::testbed
