// Fakes for hybrid steering's two sides, shared by its unit tests and its
// benchmark. FakeTable is the eBPF flow table as the engine sees it (block
// inserts or overwrites, redirect needs an entry, remove of a missing entry
// is ENOENT). FakeRules is a rule backend that can be slow (a fixed delay or
// a random one: confirmations then come back in another order than the
// handoff's calls went out), fail on purpose, or hold a call at a gate until
// the test opens it; it counts every call that breaks the backend contract
// (an insert over a rule, a removal without one) as a violation, so ordering
// bugs show up as numbers rather than as crashes. Both are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "common/handoff/steering.h"
#include "common/steering/rule_backend.h"

namespace xo::test {

using handoff::Flow;
using handoff::FlowAction;
using handoff::FlowCounters;
using handoff::RedirectTarget;
using steering::FlowOrder;

/** flow_number() - a distinct client → gateway flow for each @i. */
inline Flow flow_number(unsigned i)
{
    auto client = boost::asio::ip::address_v4(0xc6120000u | (i >> 12 & 0xff)); // 198.18.x.0
    auto gateway = boost::asio::ip::make_address("198.18.0.1");
    return Flow{Endpoint(client, static_cast<unsigned short>(1024 + (i & 0xfff))), Endpoint(gateway, 80)};
}

/** target_number() - a redirect target; @bytes: what the responder still has to send. */
inline RedirectTarget target_number(unsigned i, std::uint64_t bytes)
{
    RedirectTarget to;
    to.responder = Endpoint(boost::asio::ip::make_address("198.18.0.10"), static_cast<unsigned short>(40000 + i));
    to.responder_mac = {0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(i)};
    to.gateway_mac = {0x02, 0, 0, 0, 0, 0xff};
    to.bytes_to_send = bytes;
    return to;
}

/** FakeTable - the eBPF flow table's contract, in memory. */
class FakeTable : public handoff::FlowSteering {
public:
    struct Entry {
        FlowAction action = FlowAction::block;
        RedirectTarget target;
    };

    Result<void> block(const Flow& flow) override
    {
        std::lock_guard lock(mutex_);
        entries_[flow] = Entry{};
        return {};
    }
    Result<void> redirect(const Flow& flow, const RedirectTarget& to) override
    {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(flow);
        if (it == entries_.end())
            return Error{"fake table: redirect without an entry", ENOENT};
        it->second = Entry{FlowAction::redirect, to};
        return {};
    }
    Result<void> remove(const Flow& flow) override
    {
        std::lock_guard lock(mutex_);
        if (entries_.erase(flow) == 0)
            return Error{"fake table: no entry", ENOENT};
        return {};
    }
    Result<FlowCounters> counters(const Flow& flow) const override
    {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(flow);
        if (it == entries_.end())
            return Error{"fake table: no entry", ENOENT};
        FlowCounters c;
        c.action = it->second.action;
        return c;
    }

    std::optional<Entry> entry(const Flow& flow) const
    {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(flow);
        if (it == entries_.end())
            return std::nullopt;
        return it->second;
    }
    std::size_t size() const
    {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

private:
    mutable std::mutex mutex_;
    std::map<Flow, Entry, FlowOrder> entries_;
};

/** FakeRules - a rule backend that is slow, fails, or waits at a gate, as told. */
class FakeRules : public steering::RuleBackend {
public:
    enum class Op { insert, remove };
    struct Call {
        Op op;
        Flow flow;
    };

    /** delay - every call sleeps this long first. */
    std::chrono::microseconds delay{0};
    /** random_delay - if set, every call sleeps a random time up to this instead (seeded by seed()). */
    std::chrono::microseconds random_delay{0};
    /** fail_insert - refuse inserts for which this returns true (the rule does not go in). */
    std::function<bool(const Flow&)> fail_insert;

    void seed(std::uint32_t s)
    {
        std::lock_guard lock(mutex_);
        rng_.seed(s);
    }

    /** close_gate() - from now on every call waits at the gate until open_gate(). */
    void close_gate()
    {
        std::lock_guard lock(mutex_);
        gate_closed_ = true;
    }
    void open_gate()
    {
        {
            std::lock_guard lock(mutex_);
            gate_closed_ = false;
        }
        changed_.notify_all();
    }
    /** wait_at_gate() - until @n calls are waiting at the closed gate. */
    void wait_at_gate(unsigned n = 1)
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return at_gate_ >= n; });
    }

    Result<void> insert(const Flow& flow, const RedirectTarget& to) override
    {
        pause();
        std::lock_guard lock(mutex_);
        calls_.push_back({Op::insert, flow});
        if (fail_insert && fail_insert(flow))
            return Error{"fake rules: refused on purpose", EOPNOTSUPP};
        if (!rules_.emplace(flow, to).second) {
            ++violations_;
            return Error{"fake rules: the flow has a rule already", EEXIST};
        }
        return {};
    }
    Result<void> remove(const Flow& flow) override
    {
        pause();
        std::lock_guard lock(mutex_);
        calls_.push_back({Op::remove, flow});
        if (rules_.erase(flow) == 0) {
            ++violations_;
            return Error{"fake rules: no rule", ENOENT};
        }
        return {};
    }

    std::optional<RedirectTarget> rule(const Flow& flow) const
    {
        std::lock_guard lock(mutex_);
        auto it = rules_.find(flow);
        if (it == rules_.end())
            return std::nullopt;
        return it->second;
    }
    std::size_t rules() const
    {
        std::lock_guard lock(mutex_);
        return rules_.size();
    }
    std::vector<Call> calls() const
    {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    unsigned violations() const
    {
        std::lock_guard lock(mutex_);
        return violations_;
    }

private:
    void pause()
    {
        std::chrono::microseconds sleep = delay;
        {
            std::unique_lock lock(mutex_);
            if (random_delay.count() > 0)
                sleep = std::chrono::microseconds(std::uniform_int_distribution<long>(0, random_delay.count())(rng_));
            ++at_gate_;
            changed_.notify_all();
            changed_.wait(lock, [&] { return !gate_closed_; });
            --at_gate_;
        }
        if (sleep.count() > 0)
            std::this_thread::sleep_for(sleep);
    }

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool gate_closed_ = false;
    unsigned at_gate_ = 0;
    std::mt19937 rng_{1};
    std::map<Flow, RedirectTarget, FlowOrder> rules_;
    std::vector<Call> calls_;
    unsigned violations_ = 0;
};

} // namespace xo::test
