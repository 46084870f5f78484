// The daemons' command lines: flags first, then the keys of the optional
// config file named by --config (`key = value`), flags winning; --help
// prints the usage line and every option with its default.
#pragma once

#include <boost/program_options/options_description.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace xo {

/** struct OptionsParse - what parse_options() decided. */
struct OptionsParse {
    bool help = false;  ///< --help: @message is the help text
    bool error = false; ///< @message says what is wrong
    std::string message;
    bool run() const { return !help && !error; }
};

/**
 * parse_options() - store @args and the --config file into @desc's variables.
 * @desc: must contain "help" and "config" options.
 * @usage: the help text's first lines.
 *
 * Never throws and never exits: errors come back as @message.
 */
OptionsParse parse_options(const boost::program_options::options_description& desc,
                           const std::vector<std::string>& args, std::string_view usage);

} // namespace xo
