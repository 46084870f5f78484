// Flow-table map operations alone (Google Benchmark): what a handoff pays for
// each BLOCK insert, BLOCK→REDIRECT update and delete, without the sockets and
// the control channel around them. The map is a private hash map of the data
// plane's key and value types and size (65,536 flows), created here and
// closed at exit, so nothing is pinned or attached. Needs CAP_BPF.
#include <benchmark/benchmark.h>
#include <bpf/bpf.h>
#include <chrono>
#include <unistd.h>
#include <vector>

#include "bpf/flow_key.h"
#include "bpf/flow_table.h"

namespace {

constexpr unsigned kFlows = 65536;

/** A map of the gateway flow table's shape, closed when the process ends. */
int flow_map_fd()
{
    static int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xo_bench_flows", sizeof(xo_flow_key),
                                   sizeof(xo_flow_entry), kFlows, nullptr);
    return fd;
}

/** kFlows distinct client 4-tuples towards one gateway endpoint. */
const std::vector<xo_flow_key>& keys()
{
    static const std::vector<xo_flow_key> all = [] {
        std::vector<xo_flow_key> v;
        auto gateway = xo::Endpoint(boost::asio::ip::make_address("198.18.0.2"), 80);
        for (unsigned i = 0; i < kFlows; ++i) {
            boost::asio::ip::address_v4 client(0xc6120000u | (i >> 8)); // 198.18.x.y
            auto key = xo::bpf::flow_key(xo::Endpoint(client, static_cast<unsigned short>(1024 + i)), gateway);
            if (key)
                v.push_back(*key);
        }
        return v;
    }();
    return all;
}

bool ready(benchmark::State& state)
{
    if (flow_map_fd() < 0) {
        state.SkipWithError("cannot create a BPF hash map (needs CAP_BPF)");
        return false;
    }
    return true;
}

void report_errors(benchmark::State& state, std::size_t errors)
{
    if (errors > 0)
        state.SkipWithError("map operations failed");
}

/*
 * time_one_of_pair() - per iteration, insert and delete one flow, timing only
 * the insert (@time_insert) or only the delete, with the iteration time set
 * by hand so that untimed work costs nothing (PauseTiming would).
 */
void time_one_of_pair(benchmark::State& state, bool time_insert)
{
    if (!ready(state))
        return;
    xo::bpf::FlowTable table(flow_map_fd(), xo::bpf::EntryOwner{}); // owner: irrelevant, nothing sweeps
    const auto& k = keys();
    std::size_t i = 0, errors = 0;
    for (auto _ : state) {
        const auto& key = k[i++ % k.size()];
        auto t0 = std::chrono::steady_clock::now();
        errors += !table.block(key).ok();
        auto t1 = std::chrono::steady_clock::now();
        errors += !table.remove(key).ok();
        auto t2 = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(time_insert ? t1 - t0 : t2 - t1).count());
    }
    report_errors(state, errors);
}

/* BLOCK insert of a new flow (the first step of a handoff). */
void BM_Block(benchmark::State& state) { time_one_of_pair(state, true); }

/* Delete of a flow (a connection returned or died). */
void BM_Remove(benchmark::State& state) { time_one_of_pair(state, false); }

/* BLOCK → REDIRECT update of an existing entry (the swap of a handoff). */
void BM_Redirect(benchmark::State& state)
{
    if (!ready(state))
        return;
    xo::bpf::FlowTable table(flow_map_fd(), xo::bpf::EntryOwner{}); // owner: irrelevant, nothing sweeps
    const auto& key = keys().front();
    std::size_t errors = !table.block(key).ok();
    xo::bpf::RedirectTarget to{xo::Endpoint(boost::asio::ip::make_address("198.18.0.10"), 40000), {}, {}};
    for (auto _ : state)
        errors += !table.redirect(key, to).ok();
    errors += !table.remove(key).ok();
    report_errors(state, errors);
}

} // namespace

BENCHMARK(BM_Block)->UseManualTime();
BENCHMARK(BM_Redirect);
BENCHMARK(BM_Remove)->UseManualTime();
BENCHMARK_MAIN();
