#include "qa/handoff/step_stats.h"

#include <algorithm>
#include <cstdio>

namespace xo::testbed {

namespace {

double percentile(std::vector<double>& sorted, double p)
{
    std::size_t at = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(at, sorted.size() - 1)];
}

} // namespace

void StepStats::print(std::ostream& out)
{
    for (auto& [name, values] : samples_) {
        if (values.empty())
            continue;
        std::sort(values.begin(), values.end());
        char line[160];
        std::snprintf(line, sizeof(line), "step %s n=%zu p50_us=%.1f p99_us=%.1f\n", name.c_str(), values.size(),
                      percentile(values, 0.50), percentile(values, 0.99));
        out << line;
    }
}

} // namespace xo::testbed
