// Theory of operation: the gateway's hybrid data plane. The eBPF flow table
// (the "fast" FlowSteering) takes every block, redirect and remove on the
// handoff's critical path, in microseconds. A flow expected to be long (the
// responder still has at least min_bytes to send: RedirectTarget's hint) is
// also queued for a rule of a RuleBackend (a TC flower filter a NIC may
// execute), which one worker thread installs in the background. So:
//
//   - Nothing here waits for a rule: block(), redirect() and remove() do one
//     eBPF call and some bookkeeping under a mutex the worker never holds
//     while it talks to the backend.
//   - Bounded: at most queue_capacity inserts wait; a redirect that finds the
//     queue full keeps its flow on eBPF alone and counts as dropped. Removals
//     are never dropped: each belongs to a rule in place, and there are never
//     more of them than rules.
//   - Cancellable: block() (the flow is coming back) and remove() (it ended
//     or died) cancel the flow's rule. A queued insert is then skipped when
//     the worker reaches it; one the worker is installing right then is
//     removed as soon as the backend confirms it; an installed one gets a
//     removal job at the head of the queue (its insertion is done, so the
//     removal still follows it, and a stale rule goes before any new rule).
//   - The eBPF entry stays the fallback: it is left in place until the rule
//     is confirmed, and a failed insert leaves the flow on eBPF (counted).
//     remove() of a flow whose rule is still in the kernel keeps the entry
//     (a BLOCK or the same REDIRECT as the rule) until the worker has removed
//     the rule, then removes it: without an entry the rule would take the
//     flow's packets, so they would go to the responder after the gateway
//     had taken the connection back. block() or redirect() of the flow in
//     between makes the entry someone's again and calls that removal off.
//   - With remove_ebpf_entry set (a test setting: the rule proves it steers
//     by itself) a confirmed rule replaces the entry; block() and redirect()
//     put an entry back before anything else.
//   - Precedence: the eBPF program runs before the rules in software (native
//     XDP before TC; in TC mode the rules sit at a later priority, and the
//     program hands packets it has no entry for to the next filter), so a
//     BLOCK takes effect at once even while a software rule still exists. A
//     rule executed by the NIC (hardware mode) precedes the program: there a
//     flow's packets follow its rule until the worker has removed it.
//
// A flow is identified by its Flow (client → gateway); every rule carries a
// ticket, and a job whose ticket is no longer the flow's current one is stale
// (its flow was cancelled, perhaps redirected again since). The destructor
// stops the worker after it has removed every rule it installed (putting
// back the eBPF entries such rules had replaced); queued inserts are skipped.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "common/handoff/steering.h"
#include "common/steering/rule_backend.h"

namespace xo::steering {

using handoff::FlowCounters;
using handoff::FlowSteering;

/** struct HybridOptions - what goes to the rule backend, and how much may wait. */
struct HybridOptions {
    std::uint64_t min_bytes = 8 * 1024 * 1024; ///< flows with fewer bytes to send stay on eBPF alone
    std::size_t queue_capacity = 256;          ///< inserts waiting at most; beyond, requests are dropped
    bool remove_ebpf_entry = false;            ///< a confirmed rule replaces the eBPF entry (tests)
};

/** struct HybridStats - the queue and what the worker did, since start. */
struct HybridStats {
    std::size_t queue_depth = 0;     ///< jobs waiting (inserts and removals)
    std::size_t max_queue_depth = 0; ///< the most that ever waited
    std::size_t rules = 0;           ///< rules in the backend now
    std::uint64_t queued = 0;        ///< inserts accepted into the queue
    std::uint64_t inserted = 0;      ///< rules confirmed for a flow still redirected
    std::uint64_t skipped = 0;       ///< inserts cancelled before their rule was in (the flow returned or died)
    std::uint64_t dropped = 0;       ///< inserts refused by a full queue
    std::uint64_t failed = 0;        ///< inserts the backend refused (the flow stayed on eBPF)
    std::uint64_t removed = 0;       ///< rules removed
    std::uint64_t remove_failed = 0; ///< removals the backend refused (the rule stays until its sweep)
};

class HybridSteering : public FlowSteering {
public:
    /** HybridSteering() - steer through @fast now and @rules later; both outlive this object. */
    HybridSteering(FlowSteering& fast, RuleBackend& rules, HybridOptions options = {});
    ~HybridSteering() override;
    HybridSteering(const HybridSteering&) = delete;
    HybridSteering& operator=(const HybridSteering&) = delete;

    Result<void> block(const Flow& flow) override;
    Result<void> redirect(const Flow& flow, const RedirectTarget& to) override;
    Result<void> remove(const Flow& flow) override;
    Result<FlowCounters> counters(const Flow& flow) const override;

    HybridStats stats() const;

    /** drain() - wait until the worker has nothing left to do (tests, benchmarks). */
    void drain();

private:
    enum class Phase : std::uint8_t { queued, installing, installed };
    /** struct Rule - a redirected flow's rule, from its queueing on. */
    struct Rule {
        Phase phase = Phase::queued;
        std::uint64_t ticket = 0;
        RedirectTarget target;
        bool ebpf_removed = false; ///< the confirmed rule alone steers the flow
    };
    /** struct Retiring - a cancelled flow whose rule is on its way out of the backend. */
    struct Retiring {
        std::uint64_t ticket = 0;
        bool remove_entry = false; ///< remove() came meanwhile: the eBPF entry goes after the rule
    };
    struct Job {
        bool insert = true;
        Flow flow;
        RedirectTarget target;
        std::uint64_t ticket = 0;
    };

    /** cancel() - @flow is no longer redirected to its rule's target. Return: its rule is (or may be) in the backend. */
    bool cancel(const Flow& flow);
    /** reclaim() - a block() or redirect() wrote @flow's entry: a deferred removal must not delete it. */
    void reclaim(const Flow& flow);
    void push_insert(Job job);
    void push_removal(const Flow& flow, std::uint64_t ticket);
    void work();
    void install(const Job& job, std::unique_lock<std::mutex>& lock);
    void uninstall(const Flow& flow, std::uint64_t ticket, std::unique_lock<std::mutex>& lock);
    /** retired() - @flow's rule of @ticket is out (or never got in): remove its entry if remove() asked. */
    void retired(const Flow& flow, std::uint64_t ticket);
    void shut_down(std::unique_lock<std::mutex>& lock);

    FlowSteering& fast_;
    RuleBackend& rules_;
    HybridOptions options_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;   ///< work for the worker, or stop
    std::condition_variable idle_;   ///< the worker ran out of work
    std::deque<Job> queue_;
    std::size_t queued_inserts_ = 0; ///< inserts in queue_ (the bounded part)
    std::map<Flow, Rule, FlowOrder> flows_;
    std::map<Flow, Retiring, FlowOrder> retiring_;
    std::uint64_t next_ticket_ = 1;
    bool busy_ = false; ///< the worker holds a job
    bool stopping_ = false;
    HybridStats stats_;
    std::thread worker_; ///< last: starts after everything it uses
};

} // namespace xo::steering
