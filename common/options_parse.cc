#include "common/options_parse.h"

#include <boost/program_options.hpp>

#include <fstream>
#include <sstream>

namespace xo {

namespace po = boost::program_options;

namespace {

void store(const po::options_description& desc, const SettingsFromSource& from, po::variables_map& vm)
{
    po::parsed_options parsed(&desc);
    for (const auto& [key, value] : from.settings) {
        po::option option(key, {value});
        option.original_tokens = {key + "=" + value};
        parsed.options.push_back(std::move(option));
    }
    po::store(parsed, vm);
}

} // namespace

OptionsParse parse_options(const po::options_description& desc, const std::vector<std::string>& args,
                           std::string_view usage, const SettingsSource& source)
{
    OptionsParse result;
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(args).options(desc).run(), vm);
        if (vm.count("help")) {
            std::ostringstream help;
            help << usage << desc;
            result.help = true;
            result.message = help.str();
            return result;
        }
        if (vm.count("config")) {
            const auto& path = vm["config"].as<std::string>();
            std::ifstream file(path);
            if (!file) {
                result.error = true;
                result.message = "cannot read config file " + path;
                return result;
            }
            po::store(po::parse_config_file(file, desc), vm);
        }
        if (source) {
            auto from = source(vm);
            if (!from) {
                result.error = true;
                result.message = from.error().message;
                return result;
            }
            try {
                store(desc, *from, vm);
            } catch (const po::error& e) {
                result.error = true;
                result.message = from->origin + ": " + e.what();
                return result;
            }
        }
        po::notify(vm);
    } catch (const po::error& e) {
        result.error = true;
        result.message = e.what();
    }
    return result;
}

} // namespace xo
