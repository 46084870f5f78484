// xo-steering-bench: what hybrid steering costs, in two parts.
//
// 1. Rule insert and remove latency, the eBPF flow table against the TC
//    flower backend, side by side in one run: alternating rounds, each round
//    installing then removing --rules flows one call at a time and timing
//    every call. eBPF: a private hash map of the flow table's shape (nothing
//    pinned or attached); an insert is what a handoff writes (block, then
//    redirect). Flower: FlowerRules in software mode on a veth in a network
//    namespace this process creates (and which goes with it). Where the
//    kernel lacks cls_flower, act_pedit, act_csum or act_mirred, the flower
//    column says SKIPPED and why.
// 2. The queue under --offloads concurrent offloads: that many threads hand a
//    long flow off at once (block + redirect through HybridSteering over the
//    eBPF table) while a fake rule backend takes --fake-insert-us per insert
//    (a flower insert's order of magnitude); a sampler reads the queue depth
//    every 200 us. Reported: the deepest queue, the handoff calls' latency
//    (with 64 threads on few cores, mostly scheduling), how long the last
//    rule took to go in, what was dropped — after a warm-up run, in --rounds
//    rounds alternating the default capacity and --small-queue (the bound).
//
// Prints the machine's load first: the machine is shared, and numbers from a
// loaded run say so. Needs root (CAP_BPF, CAP_NET_ADMIN, unshare).
#include <bpf/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bpf/flow_maps.h"
#include "bpf/flow_table.h"
#include "bpf/flower/flower_rules.h"
#include "common/log.h"
#include "common/steering/hybrid_steering.h"
#include "qa/bpf/veth_pair.h"
#include "qa/unit/steering_fakes.h"

namespace {

using Clock = std::chrono::steady_clock;
using xo::test::flow_number;
using xo::test::target_number;

struct Args {
    unsigned rounds = 6;
    unsigned rules = 200;
    unsigned offloads = 64;
    unsigned fake_insert_us = 2000;
    unsigned small_queue = 16;
};

std::optional<Args> parse(int argc, char** argv)
{
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        unsigned v = static_cast<unsigned>(std::stoul(argv[i + 1]));
        if (flag == "--rounds")
            a.rounds = v;
        else if (flag == "--rules")
            a.rules = v;
        else if (flag == "--offloads")
            a.offloads = v;
        else if (flag == "--fake-insert-us")
            a.fake_insert_us = v;
        else if (flag == "--small-queue")
            a.small_queue = v;
        else
            return std::nullopt;
    }
    if (argc % 2 == 0 || a.rounds == 0 || a.rules == 0 || a.offloads == 0)
        return std::nullopt;
    return a;
}

double us(Clock::duration d)
{
    return std::chrono::duration<double, std::micro>(d).count();
}

/** struct Samples - call latencies in microseconds. */
struct Samples {
    std::vector<double> v;
    double at(double q)
    {
        std::sort(v.begin(), v.end());
        return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
    }
};

std::string machine_load()
{
    std::ifstream f("/proc/loadavg");
    std::string l1, l5, l15;
    f >> l1 >> l5 >> l15;
    return "load average " + l1 + " " + l5 + " " + l15 + " on " + std::to_string(std::thread::hardware_concurrency()) +
           " cores (a shared machine: other engineers' builds and tests run beside this)";
}

/** round() - install then remove @n flows through @insert / @remove, timing each call. */
template <typename Insert, typename Remove>
bool round(unsigned n, Samples& ins, Samples& rem, Insert insert, Remove remove)
{
    for (unsigned i = 0; i < n; ++i) {
        auto t0 = Clock::now();
        bool ok = insert(i);
        ins.v.push_back(us(Clock::now() - t0));
        if (!ok)
            return false;
    }
    for (unsigned i = 0; i < n; ++i) {
        auto t0 = Clock::now();
        bool ok = remove(i);
        rem.v.push_back(us(Clock::now() - t0));
        if (!ok)
            return false;
    }
    return true;
}

int private_map()
{
    return bpf_map_create(BPF_MAP_TYPE_HASH, "xo_bench_steer", sizeof(xo_flow_key), sizeof(xo_flow_entry), 65536,
                          nullptr);
}

/** flower_backend() - FlowerRules on a fresh veth in a new namespace; or why not. */
xo::Result<std::unique_ptr<xo::flower::FlowerRules>> flower_backend()
{
    if (unshare(CLONE_NEWNET) != 0)
        return xo::Error::from_errno("unshare(CLONE_NEWNET)");
    auto sock = xo::flower::NetlinkSocket::open();
    if (!sock)
        return sock.error();
    if (auto r = xo::test::add_veth_pair(*sock, "xsb0", "xsb1", "198.18.0.1/24"); !r)
        return r.error();
    auto setup = xo::flower::FlowerRules::start("xsb0", xo::steering::FlowerMode::automatic);
    if (!setup)
        return setup.error();
    if (!setup->rules)
        return xo::Error{"SKIPPED: " + setup->why_off + (setup->caps ? " (" + setup->caps->describe() + ")" : "")};
    if (setup->mode != xo::steering::FlowerMode::software)
        return xo::Error{"SKIPPED: the veth's rules would not be software rules"};
    return std::move(setup->rules);
}

void latency_part(const Args& args)
{
    std::printf("\n== rule insert/remove latency: %u rounds of %u flows, eBPF and flower rounds alternating ==\n",
                args.rounds, args.rules);
    int fd = private_map();
    if (fd < 0) {
        std::printf("eBPF map: SKIPPED: cannot create a BPF hash map (%s)\n", std::strerror(errno));
        return;
    }
    xo::bpf::FlowTable table(fd, xo::bpf::EntryOwner{});
    auto flower = flower_backend();
    Samples ebpf_ins, ebpf_rem, fl_ins, fl_rem;
    bool fl_ok = flower.ok();
    for (unsigned r = 0; r < args.rounds; ++r) {
        bool ok = round(
            args.rules, ebpf_ins, ebpf_rem,
            [&](unsigned i) {
                return table.block(flow_number(i)).ok() &&
                       table.redirect(flow_number(i), target_number(i, 64u << 20)).ok();
            },
            [&](unsigned i) { return table.remove(flow_number(i)).ok(); });
        if (!ok)
            std::printf("eBPF round %u: a map call failed\n", r);
        if (fl_ok) {
            fl_ok = round(
                args.rules, fl_ins, fl_rem,
                [&](unsigned i) { return (*flower)->insert(flow_number(i), target_number(i, 64u << 20)).ok(); },
                [&](unsigned i) { return (*flower)->remove(flow_number(i)).ok(); });
            if (!fl_ok)
                std::printf("flower round %u: a netlink call failed\n", r);
        }
    }
    close(fd);
    std::printf("%-22s %12s %12s %12s %12s\n", "backend", "insert p50", "insert p99", "remove p50", "remove p99");
    std::printf("%-22s %10.1fus %10.1fus %10.1fus %10.1fus\n", "eBPF map", ebpf_ins.at(0.5), ebpf_ins.at(0.99),
                ebpf_rem.at(0.5), ebpf_rem.at(0.99));
    if (!flower) {
        std::printf("%-22s %s\n", "TC flower (software)", flower.error().message.c_str());
        return;
    }
    std::printf("%-22s %10.1fus %10.1fus %10.1fus %10.1fus\n", "TC flower (software)", fl_ins.at(0.5),
                fl_ins.at(0.99), fl_rem.at(0.5), fl_rem.at(0.99));
    std::printf("ratio flower/eBPF: insert p50 %.0fx, remove p50 %.0fx\n", fl_ins.at(0.5) / ebpf_ins.at(0.5),
                fl_rem.at(0.5) / ebpf_rem.at(0.5));
}

void queue_run(const Args& args, std::size_t capacity, bool print)
{
    int fd = private_map();
    if (fd < 0) {
        std::printf("SKIPPED: cannot create a BPF hash map (%s)\n", std::strerror(errno));
        return;
    }
    xo::bpf::FlowTable table(fd, xo::bpf::EntryOwner{});
    xo::test::FakeRules rules;
    rules.delay = std::chrono::microseconds(args.fake_insert_us);
    Samples calls;
    std::size_t sampled_max = 0;
    Clock::duration last_rule{};
    xo::steering::HybridStats stats;
    {
        xo::steering::HybridSteering steering(table, rules, {.queue_capacity = capacity});
        std::barrier start(static_cast<std::ptrdiff_t>(args.offloads) + 1);
        std::vector<double> per_thread(args.offloads);
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < args.offloads; ++t)
            threads.emplace_back([&, t] {
                auto flow = flow_number(t);
                start.arrive_and_wait();
                auto t0 = Clock::now();
                bool ok = steering.block(flow).ok() && steering.redirect(flow, target_number(t, 64u << 20)).ok();
                per_thread[t] = ok ? us(Clock::now() - t0) : -1;
            });
        std::atomic<bool> sampling{true};
        std::thread sampler([&] {
            while (sampling.load()) {
                sampled_max = std::max(sampled_max, steering.stats().queue_depth);
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        });
        auto t0 = Clock::now();
        start.arrive_and_wait();
        for (auto& th : threads)
            th.join();
        steering.drain();
        last_rule = Clock::now() - t0;
        sampling = false;
        sampler.join();
        stats = steering.stats();
        calls.v = per_thread;
        for (unsigned t = 0; t < args.offloads; ++t)
            (void)steering.remove(flow_number(t));
    } // the worker removes the rules
    close(fd);
    unsigned failed = static_cast<unsigned>(std::count(calls.v.begin(), calls.v.end(), -1.0));
    if (!print)
        return;
    std::printf("%-9zu %9zu %9zu %10llu %8llu %9.1fus %9.1fus %9.1fus %10.1fms %s\n", capacity, stats.max_queue_depth,
                sampled_max, static_cast<unsigned long long>(stats.inserted),
                static_cast<unsigned long long>(stats.dropped), calls.at(0.5), calls.at(0.99), calls.at(1.0),
                us(last_rule) / 1000, failed ? "(some handoff calls FAILED)" : "");
}

void queue_part(const Args& args)
{
    std::printf("\n== queue under %u concurrent offloads (eBPF table + fake backend, %u us per insert) ==\n",
                args.offloads, args.fake_insert_us);
    std::printf("(one unprinted warm-up run first; then %u rounds, the two capacities alternating)\n", args.rounds);
    queue_run(args, args.small_queue, false);
    std::printf("%-9s %9s %9s %10s %8s %11s %11s %11s %12s\n", "capacity", "max depth", "sampled", "rules in",
                "dropped", "call p50", "call p99", "call max", "all rules in");
    for (unsigned r = 0; r < args.rounds; ++r)
        queue_run(args, r % 2 ? args.small_queue : xo::steering::HybridOptions{}.queue_capacity, true);
}

} // namespace

int main(int argc, char** argv)
{
    auto args = parse(argc, argv);
    if (!args) {
        std::fprintf(stderr, "usage: xo-steering-bench [--rounds N] [--rules N] [--offloads N] "
                             "[--fake-insert-us US] [--small-queue N]\n");
        return 2;
    }
    xo::log::set_level(xo::log::Level::warn);
    std::printf("xo-steering-bench: %s\n", machine_load().c_str());
    queue_part(*args); // first: the latency part moves this process into a namespace of its own
    latency_part(*args);
    std::printf("\nafter: %s\n", machine_load().c_str());
    return 0;
}
