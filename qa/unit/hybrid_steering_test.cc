// HybridSteering (common/steering/) against a fake eBPF table and a rule
// backend that is slow, fails or is held at a gate (steering_fakes.h): each
// property of the queue on its own, then random interleavings of redirect,
// return and death checked against a model of what the engine asked for.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "common/steering/hybrid_steering.h"
#include "qa/unit/steering_fakes.h"

namespace {

using namespace std::chrono_literals;
using xo::handoff::FlowAction;
using xo::steering::HybridOptions;
using xo::steering::HybridSteering;
using xo::test::FakeRules;
using xo::test::FakeTable;
using xo::test::flow_number;
using xo::test::target_number;

constexpr std::uint64_t MiB = 1024 * 1024;
constexpr std::uint64_t long_flow = 64 * MiB;

/** A redirected flow, as the engine makes one: block, then redirect. */
void offload(HybridSteering& steering, unsigned i, std::uint64_t bytes = long_flow)
{
    ASSERT_TRUE(steering.block(flow_number(i)));
    ASSERT_TRUE(steering.redirect(flow_number(i), target_number(i, bytes)));
}

/** inserts_of() - how many inserts the backend was asked for @flow. */
std::size_t inserts_of(const FakeRules& rules, const xo::handoff::Flow& flow)
{
    auto calls = rules.calls();
    return static_cast<std::size_t>(std::count_if(calls.begin(), calls.end(), [&](const FakeRules::Call& c) {
        return c.op == FakeRules::Op::insert && c.flow.src == flow.src && c.flow.dst == flow.dst;
    }));
}

TEST(HybridSteering, OnlyFlowsAtOrAboveTheThresholdAreQueued)
{
    FakeTable table;
    FakeRules rules;
    HybridSteering steering(table, rules, HybridOptions{.min_bytes = 8 * MiB});
    offload(steering, 1, 8 * MiB - 1);
    offload(steering, 2, 8 * MiB);
    offload(steering, 3, 0); // unknown length: not known to be long
    offload(steering, 4, 1024 * MiB);
    steering.drain();
    EXPECT_FALSE(rules.rule(flow_number(1)));
    EXPECT_TRUE(rules.rule(flow_number(2)));
    EXPECT_FALSE(rules.rule(flow_number(3)));
    EXPECT_TRUE(rules.rule(flow_number(4)));
    auto stats = steering.stats();
    EXPECT_EQ(stats.queued, 2u);
    EXPECT_EQ(stats.inserted, 2u);
    EXPECT_EQ(stats.rules, 2u);
    for (unsigned i = 1; i <= 4; ++i) // every flow is on its eBPF entry either way
        EXPECT_EQ(table.entry(flow_number(i))->action, FlowAction::redirect) << i;
}

TEST(HybridSteering, HandoffCallsReturnInMicrosecondsWhileTheBackendSleeps)
{
    FakeTable table;
    FakeRules rules;
    rules.delay = 300ms; // every rule takes longer than the whole test should
    std::vector<double> us;
    {
        HybridSteering steering(table, rules, HybridOptions{.queue_capacity = 1000});
        auto timed = [&](auto&& call) {
            auto t0 = std::chrono::steady_clock::now();
            ASSERT_TRUE(call());
            us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        };
        rules.close_gate(); // hold the first insert until the worker is surely in the backend
        offload(steering, 0);
        rules.wait_at_gate();
        rules.open_gate(); // now it sleeps there for 300 ms
        for (unsigned i = 1; i < 200; ++i) {
            auto flow = flow_number(i);
            timed([&] { return steering.block(flow); });
            timed([&] { return steering.redirect(flow, target_number(i, long_flow)); });
        }
        for (unsigned i = 0; i < 200; i += 2) { // returns and deaths while the worker sleeps in the backend
            auto flow = flow_number(i);
            timed([&] { return steering.block(flow); });
            timed([&] { return steering.remove(flow); });
        }
        auto stats = steering.stats();
        EXPECT_EQ(stats.queue_depth, 100u) << "199 queued, 99 of them cancelled, none done yet";
        EXPECT_TRUE(rules.calls().empty()) << "the first insert is still sleeping";
    } // the destructor skips what is queued and removes the one rule that went in
    std::sort(us.begin(), us.end());
    double p50 = us[us.size() / 2], p99 = us[us.size() * 99 / 100], max = us.back();
    std::printf("FlowSteering calls with a 300 ms backend: p50 %.1f us, p99 %.1f us, max %.1f us (%zu calls)\n", p50,
                p99, max, us.size());
    // Generous bounds for a shared 2-core machine; the backend call takes 300,000 us.
    EXPECT_LT(p50, 200.0);
    EXPECT_LT(max, 20000.0);
    EXPECT_EQ(rules.rules(), 0u);
}

TEST(HybridSteering, AFlowThatReturnsBeforeItsRuleIsQueuedIsSkipped)
{
    FakeTable table;
    FakeRules rules;
    HybridSteering steering(table, rules);
    rules.close_gate();
    offload(steering, 1); // the worker takes it and waits at the gate
    rules.wait_at_gate();
    offload(steering, 2); // queued behind it
    offload(steering, 3);
    ASSERT_TRUE(steering.block(flow_number(2)));  // 2 comes back
    ASSERT_TRUE(steering.remove(flow_number(3))); // 3 dies
    EXPECT_EQ(steering.stats().queue_depth, 0u);
    rules.open_gate();
    steering.drain();
    EXPECT_EQ(inserts_of(rules, flow_number(2)), 0u);
    EXPECT_EQ(inserts_of(rules, flow_number(3)), 0u);
    EXPECT_TRUE(rules.rule(flow_number(1)));
    EXPECT_EQ(table.entry(flow_number(2))->action, FlowAction::block);
    EXPECT_FALSE(table.entry(flow_number(3)));
    EXPECT_EQ(steering.stats().skipped, 2u);
    EXPECT_EQ(rules.violations(), 0u);
}

TEST(HybridSteering, AFlowThatDiesWhileItsRuleGoesInLosesTheRuleThenTheEntry)
{
    FakeTable table;
    FakeRules rules;
    HybridSteering steering(table, rules);
    rules.close_gate();
    offload(steering, 1);
    rules.wait_at_gate(); // the insert is under way
    ASSERT_TRUE(steering.remove(flow_number(1)));
    // The rule may be in the kernel any moment: the entry stays until it is out.
    EXPECT_EQ(table.entry(flow_number(1))->action, FlowAction::redirect);
    rules.open_gate();
    steering.drain();
    auto calls = rules.calls();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].op, FakeRules::Op::insert);
    EXPECT_EQ(calls[1].op, FakeRules::Op::remove);
    EXPECT_EQ(rules.rules(), 0u);
    EXPECT_FALSE(table.entry(flow_number(1)));
    auto stats = steering.stats();
    EXPECT_EQ(stats.skipped, 1u);
    EXPECT_EQ(stats.inserted, 0u);
    EXPECT_EQ(stats.removed, 1u);
}

TEST(HybridSteering, AReturnedFlowKeepsItsBlockUntilItsRuleIsOut)
{
    FakeTable table;
    FakeRules rules;
    HybridSteering steering(table, rules);
    offload(steering, 1);
    steering.drain();
    ASSERT_TRUE(rules.rule(flow_number(1)));
    rules.close_gate();
    ASSERT_TRUE(steering.block(flow_number(1))); // the connection comes back
    rules.wait_at_gate();                         // its rule's removal is under way
    ASSERT_TRUE(steering.remove(flow_number(1))); // restored at the gateway
    EXPECT_EQ(table.entry(flow_number(1))->action, FlowAction::block) << "the rule would take the packets";
    rules.open_gate();
    steering.drain();
    EXPECT_FALSE(table.entry(flow_number(1)));
    EXPECT_EQ(rules.rules(), 0u);
}

TEST(HybridSteering, ANewUseOfTheFlowKeepsTheEntryADeferredRemovalWouldHaveTaken)
{
    FakeTable table;
    FakeRules rules;
    HybridSteering steering(table, rules);
    offload(steering, 1);
    steering.drain();
    rules.close_gate();
    ASSERT_TRUE(steering.remove(flow_number(1))); // dies; the entry goes after the rule
    rules.wait_at_gate();
    ASSERT_TRUE(steering.block(flow_number(1))); // a new connection on the 4-tuple is handed off
    rules.open_gate();
    steering.drain();
    ASSERT_TRUE(table.entry(flow_number(1)));
    EXPECT_EQ(table.entry(flow_number(1))->action, FlowAction::block);
}

TEST(HybridSteering, ARemovalIsOrderedAfterItsInsertion)
{
    FakeTable table;
    FakeRules rules;
    rules.random_delay = 2ms;
    HybridSteering steering(table, rules);
    for (unsigned i = 0; i < 20; ++i)
        offload(steering, i);
    for (unsigned i = 0; i < 20; ++i) {
        if (i % 2)
            std::this_thread::sleep_for(1ms); // some rules are in by now, some not
        ASSERT_TRUE(steering.remove(flow_number(i)));
    }
    steering.drain();
    std::map<unsigned, std::vector<FakeRules::Op>> per_flow;
    for (const auto& call : rules.calls())
        for (unsigned i = 0; i < 20; ++i)
            if (call.flow.src == flow_number(i).src)
                per_flow[i].push_back(call.op);
    for (const auto& [i, ops] : per_flow) {
        ASSERT_EQ(ops.size(), 2u) << i;
        EXPECT_EQ(ops[0], FakeRules::Op::insert) << i;
        EXPECT_EQ(ops[1], FakeRules::Op::remove) << i;
    }
    EXPECT_EQ(rules.rules(), 0u);
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(rules.violations(), 0u);
}

TEST(HybridSteering, TheEntryStaysUntilTheRuleIsConfirmedAndWhenItFails)
{
    FakeTable table;
    FakeRules rules;
    rules.fail_insert = [](const xo::handoff::Flow& f) { return f.src == flow_number(2).src; };
    HybridSteering steering(table, rules, HybridOptions{.remove_ebpf_entry = true});
    rules.close_gate();
    offload(steering, 1);
    rules.wait_at_gate();
    EXPECT_EQ(table.entry(flow_number(1))->action, FlowAction::redirect) << "no rule is confirmed yet";
    rules.open_gate();
    offload(steering, 2);
    steering.drain();
    EXPECT_FALSE(table.entry(flow_number(1))) << "the confirmed rule replaces it (remove_ebpf_entry)";
    EXPECT_EQ(rules.rule(flow_number(1)), target_number(1, long_flow));
    ASSERT_TRUE(table.entry(flow_number(2))) << "a refused rule leaves the flow on eBPF";
    EXPECT_EQ(table.entry(flow_number(2))->action, FlowAction::redirect);
    EXPECT_EQ(steering.stats().failed, 1u);
    // The rule steers flow 1 alone; a return must put the BLOCK back at once.
    ASSERT_TRUE(steering.block(flow_number(1)));
    EXPECT_EQ(table.entry(flow_number(1))->action, FlowAction::block);
}

TEST(HybridSteering, AFullQueueDropsTheRequestAndCountsIt)
{
    FakeTable table;
    FakeRules rules;
    HybridSteering steering(table, rules, HybridOptions{.queue_capacity = 4});
    rules.close_gate();
    offload(steering, 0); // taken by the worker: not in the queue
    rules.wait_at_gate();
    for (unsigned i = 1; i <= 10; ++i)
        offload(steering, i); // 4 queued, 6 dropped, every call succeeds
    auto stats = steering.stats();
    EXPECT_EQ(stats.queue_depth, 4u);
    EXPECT_EQ(stats.dropped, 6u);
    rules.open_gate();
    steering.drain();
    EXPECT_EQ(rules.rules(), 5u);
    for (unsigned i = 5; i <= 10; ++i) {
        EXPECT_FALSE(rules.rule(flow_number(i))) << i;
        EXPECT_EQ(table.entry(flow_number(i))->action, FlowAction::redirect) << i;
    }
}

TEST(HybridSteering, StoppingRemovesEveryRuleAndPutsEntriesBack)
{
    FakeTable table;
    FakeRules rules;
    {
        HybridSteering steering(table, rules, HybridOptions{.remove_ebpf_entry = true});
        for (unsigned i = 0; i < 5; ++i)
            offload(steering, i);
        steering.drain();
        EXPECT_EQ(table.size(), 0u);
        EXPECT_EQ(rules.rules(), 5u);
    }
    EXPECT_EQ(rules.rules(), 0u);
    for (unsigned i = 0; i < 5; ++i) { // the transfers still run: eBPF steers them again
        ASSERT_TRUE(table.entry(flow_number(i))) << i;
        EXPECT_EQ(table.entry(flow_number(i))->target, target_number(i, long_flow)) << i;
    }
}

/*
 * Random interleavings: a few flows, each driven through the engine's
 * lifecycle at random (handed off, redirected long or short, returned,
 * redirected again, died) while the backend answers after random delays and
 * refuses some rules. After every step: each flow the engine believes
 * redirected is steered to its target by its eBPF entry or by its rule, and
 * each blocked flow is blocked. At the end: no rule and no entry is left for
 * a flow that is gone, no rule for a flow that is not redirected there, the
 * backend never saw a removal before its insertion, and the counters add up.
 */
class Interleavings : public ::testing::TestWithParam<bool> {};

TEST_P(Interleavings, NoRuleIsLeftBehindAndNoFlowIsLeftWithoutSteering)
{
    const bool replace_entry = GetParam();
    constexpr unsigned flows = 6, steps = 60, seeds = 150;
    enum class State { none, blocked, redirected };
    for (unsigned seed = 1; seed <= seeds; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        std::mt19937 rng(seed);
        FakeTable table;
        FakeRules rules;
        rules.seed(seed);
        rules.random_delay = 150us;
        rules.fail_insert = [&](const xo::handoff::Flow& f) { return (f.src.port() + seed) % 7 == 0; };
        std::vector<State> state(flows, State::none);
        std::vector<xo::handoff::RedirectTarget> target(flows);
        {
            HybridSteering steering(table, rules,
                                    HybridOptions{.min_bytes = 8 * MiB, .queue_capacity = 3, .remove_ebpf_entry = replace_entry});
            for (unsigned step = 0; step < steps; ++step) {
                unsigned i = rng() % flows;
                auto flow = flow_number(i);
                unsigned pick = rng() % 3;
                switch (state[i]) {
                case State::none:
                    ASSERT_TRUE(steering.block(flow));
                    state[i] = State::blocked;
                    break;
                case State::blocked:
                case State::redirected:
                    if (pick == 0 || (pick == 1 && state[i] == State::blocked)) {
                        target[i] = target_number(rng() % 2, rng() % 2 ? 64 * MiB : MiB);
                        ASSERT_TRUE(steering.redirect(flow, target[i]));
                        state[i] = State::redirected;
                    } else if (pick == 1) {
                        ASSERT_TRUE(steering.block(flow)); // a return begins
                        state[i] = State::blocked;
                    } else {
                        ASSERT_TRUE(steering.remove(flow)); // returned or died
                        state[i] = State::none;
                    }
                    break;
                }
                if (rng() % 4 == 0)
                    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 400));
                for (unsigned j = 0; j < flows; ++j) {
                    // Entry first, then rule: a rule replaces an entry only once confirmed.
                    auto entry = table.entry(flow_number(j));
                    if (state[j] == State::blocked) {
                        ASSERT_TRUE(entry && entry->action == FlowAction::block) << "flow " << j << " not blocked";
                    } else if (state[j] == State::redirected) {
                        bool by_entry = entry && entry->action == FlowAction::redirect && entry->target == target[j];
                        auto rule = rules.rule(flow_number(j));
                        ASSERT_TRUE(by_entry || (rule && *rule == target[j])) << "flow " << j << " without steering";
                    }
                }
            }
            steering.drain();
            for (unsigned j = 0; j < flows; ++j) {
                auto rule = rules.rule(flow_number(j));
                auto entry = table.entry(flow_number(j));
                if (state[j] != State::redirected) {
                    EXPECT_FALSE(rule) << "flow " << j << " left a rule behind";
                } else if (rule) {
                    EXPECT_EQ(*rule, target[j]) << "flow " << j;
                }
                if (state[j] == State::none) {
                    EXPECT_FALSE(entry) << "flow " << j << " left an entry behind";
                }
            }
            auto stats = steering.stats();
            EXPECT_EQ(stats.queued, stats.inserted + stats.skipped + stats.failed);
            EXPECT_EQ(stats.rules, rules.rules());
            EXPECT_EQ(stats.remove_failed, 0u);
        }
        EXPECT_EQ(rules.rules(), 0u) << "a rule outlived the steering";
        EXPECT_EQ(rules.violations(), 0u) << "an insert over a rule or a removal without one";
        if (HasFatalFailure() || HasNonfatalFailure())
            return;
    }
}

INSTANTIATE_TEST_SUITE_P(HybridSteering, Interleavings, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "RuleReplacesEntry" : "EntryStays"; });

} // namespace
