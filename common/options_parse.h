// The daemons' command lines: flags first, then the keys of the optional
// config file named by --config (`key = value`), then an optional further
// source (e.g. an entry of the cluster's `rgw frontends`), the earlier
// winning; --help prints the usage line and every option with its default.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace xo {

/** struct SettingsFromSource - options (names without "--") from a source other than argv. */
struct SettingsFromSource {
    std::string origin; ///< where they came from, for error messages
    std::vector<std::pair<std::string, std::string>> settings;
};

/**
 * SettingsSource - fetches further settings once the command line and the
 * config file are read (it may look at their values, e.g. a --name).
 * Return: settings; nothing to add is an empty list, not an Error.
 */
using SettingsSource = std::function<Result<SettingsFromSource>(const boost::program_options::variables_map&)>;

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
 * @source: consulted last, if set; an option it names that @desc lacks is an error.
 *
 * Never throws and never exits: errors come back as @message.
 */
OptionsParse parse_options(const boost::program_options::options_description& desc,
                           const std::vector<std::string>& args, std::string_view usage,
                           const SettingsSource& source = {});

} // namespace xo
