// Theory of operation: the testbed daemons time every handoff step and, on
// exit, print one line per step with count, p50 and p99 in microseconds:
//   step <name> n=<count> p50_us=<x> p99_us=<y>
// The benchmark script reads these lines; tests only read the counters.
#pragma once

#include <chrono>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace xo::testbed {

class StepStats {
public:
    /** add() - one sample of step @name. */
    void add(const std::string& name, std::chrono::steady_clock::duration d)
    {
        samples_[name].push_back(std::chrono::duration<double, std::micro>(d).count());
    }

    /** print() - the summary lines, steps in name order. */
    void print(std::ostream& out);

private:
    std::map<std::string, std::vector<double>> samples_;
};

} // namespace xo::testbed
