#include "common/steering/hybrid_steering.h"

#include <algorithm>
#include <vector>

#include "common/log.h"

namespace xo::steering {

HybridSteering::HybridSteering(FlowSteering& fast, RuleBackend& rules, HybridOptions options)
    : fast_(fast), rules_(rules), options_(options), worker_([this] { work(); })
{
}

HybridSteering::~HybridSteering()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
}

Result<void> HybridSteering::block(const Flow& flow)
{
    std::lock_guard lock(mutex_);
    // The entry first: it drops the flow at once, whatever its rule still does.
    if (auto r = fast_.block(flow); !r)
        return r;
    reclaim(flow);
    cancel(flow);
    return {};
}

Result<void> HybridSteering::redirect(const Flow& flow, const RedirectTarget& to)
{
    std::lock_guard lock(mutex_);
    auto it = flows_.find(flow);
    if (it != flows_.end() && it->second.target == to) {
        if (it->second.ebpf_removed)
            return {}; // its confirmed rule steers it there already
        return fast_.redirect(flow, to); // its rule is queued or in place
    }
    // A rule to another target goes; the entry must be back before it does.
    if (it != flows_.end() && it->second.ebpf_removed) {
        if (auto r = fast_.block(flow); !r)
            return r;
    }
    auto r = fast_.redirect(flow, to);
    if (r)
        reclaim(flow);
    cancel(flow);
    if (!r || to.bytes_to_send < options_.min_bytes)
        return r;
    if (queued_inserts_ >= options_.queue_capacity) {
        ++stats_.dropped; // the flow stays on its eBPF entry
        return {};
    }
    std::uint64_t ticket = next_ticket_++;
    flows_[flow] = Rule{Phase::queued, ticket, to, false};
    ++queued_inserts_;
    ++stats_.queued;
    push_insert(Job{true, flow, to, ticket});
    return {};
}

Result<void> HybridSteering::remove(const Flow& flow)
{
    std::lock_guard lock(mutex_);
    auto it = flows_.find(flow);
    bool entry_gone = it != flows_.end() && it->second.ebpf_removed;
    if (!cancel(flow))
        return fast_.remove(flow);
    if (!entry_gone)
        retiring_[flow].remove_entry = true; // once the rule is out (worker)
    return {};
}

Result<FlowCounters> HybridSteering::counters(const Flow& flow) const
{
    std::lock_guard lock(mutex_);
    return fast_.counters(flow);
}

HybridStats HybridSteering::stats() const
{
    std::lock_guard lock(mutex_);
    HybridStats out = stats_;
    out.queue_depth = queue_.size();
    return out;
}

void HybridSteering::drain()
{
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

bool HybridSteering::cancel(const Flow& flow)
{
    auto it = flows_.find(flow);
    if (it != flows_.end()) {
        auto ticket = it->second.ticket;
        switch (it->second.phase) {
        case Phase::queued: {
            auto job =
                std::find_if(queue_.begin(), queue_.end(), [&](const Job& j) { return j.insert && j.ticket == ticket; });
            if (job != queue_.end()) {
                queue_.erase(job);
                --queued_inserts_;
            }
            ++stats_.skipped;
            break;
        }
        case Phase::installing:
            retiring_[flow] = Retiring{ticket, false}; // the worker removes it once it is in
            break;
        case Phase::installed:
            retiring_[flow] = Retiring{ticket, false};
            push_removal(flow, ticket);
            break;
        }
        flows_.erase(it);
    }
    return retiring_.contains(flow);
}

void HybridSteering::reclaim(const Flow& flow)
{
    if (auto it = retiring_.find(flow); it != retiring_.end())
        it->second.remove_entry = false;
}

void HybridSteering::push_insert(Job job)
{
    queue_.push_back(std::move(job));
    stats_.max_queue_depth = std::max(stats_.max_queue_depth, queue_.size());
    wake_.notify_one();
}

void HybridSteering::push_removal(const Flow& flow, std::uint64_t ticket)
{
    // Ahead of every insert: its own insertion is done, and a rule that no
    // longer matches the engine's view must go before new ones come.
    queue_.push_front(Job{false, flow, {}, ticket});
    stats_.max_queue_depth = std::max(stats_.max_queue_depth, queue_.size());
    wake_.notify_one();
}

void HybridSteering::work()
{
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty())
            break; // stopping, nothing left
        Job job = std::move(queue_.front());
        queue_.pop_front();
        busy_ = true;
        if (!job.insert) {
            uninstall(job.flow, job.ticket, lock);
        } else {
            --queued_inserts_;
            if (stopping_) {
                flows_.erase(job.flow); // queued: nothing of it is in the backend
                ++stats_.skipped;
            } else {
                install(job, lock);
            }
        }
        busy_ = false;
        if (queue_.empty())
            idle_.notify_all();
    }
    shut_down(lock);
    idle_.notify_all();
}

void HybridSteering::install(const Job& job, std::unique_lock<std::mutex>& lock)
{
    auto it = flows_.find(job.flow);
    if (it == flows_.end() || it->second.ticket != job.ticket)
        return; // cancel() takes queued inserts out of the queue; never here
    it->second.phase = Phase::installing;
    lock.unlock();
    auto r = rules_.insert(job.flow, job.target);
    lock.lock();
    it = flows_.find(job.flow);
    bool current = it != flows_.end() && it->second.ticket == job.ticket;
    if (!r) {
        ++stats_.failed; // the eBPF entry, never touched, still steers the flow
        log::info("hybrid steering: no rule for a redirected flow, it stays on eBPF: ", r.error().message);
        if (current)
            flows_.erase(it);
        else
            retired(job.flow, job.ticket);
        return;
    }
    ++stats_.rules;
    if (!current) {
        ++stats_.skipped; // the flow returned or died while its rule went in
        uninstall(job.flow, job.ticket, lock);
        return;
    }
    it->second.phase = Phase::installed;
    ++stats_.inserted;
    if (!options_.remove_ebpf_entry)
        return;
    if (auto removed = fast_.remove(job.flow); removed)
        it->second.ebpf_removed = true;
    else
        log::warn("hybrid steering: eBPF entry kept beside its rule: ", removed.error().message);
}

void HybridSteering::uninstall(const Flow& flow, std::uint64_t ticket, std::unique_lock<std::mutex>& lock)
{
    lock.unlock();
    auto r = rules_.remove(flow);
    lock.lock();
    if (r) {
        --stats_.rules;
        ++stats_.removed;
    } else {
        ++stats_.remove_failed;
        log::warn("hybrid steering: a rule could not be removed (its backend sweeps it at stop): ",
                  r.error().message);
    }
    retired(flow, ticket);
}

void HybridSteering::retired(const Flow& flow, std::uint64_t ticket)
{
    auto it = retiring_.find(flow);
    if (it == retiring_.end() || it->second.ticket != ticket)
        return;
    if (it->second.remove_entry) {
        if (auto r = fast_.remove(flow); !r)
            log::warn("hybrid steering: removing a flow's entry after its rule: ", r.error().message);
    }
    retiring_.erase(it);
}

void HybridSteering::shut_down(std::unique_lock<std::mutex>& lock)
{
    // No rule outlives the steering. A flow the rule alone steered gets its
    // eBPF entry back first: its transfer may still be running.
    std::vector<std::pair<Flow, Rule>> left(flows_.begin(), flows_.end());
    flows_.clear();
    for (const auto& [flow, rule] : left) {
        if (rule.phase != Phase::installed)
            continue;
        if (rule.ebpf_removed && (!fast_.block(flow) || !fast_.redirect(flow, rule.target)))
            log::warn("hybrid steering: a flow lost its eBPF entry at shutdown");
        uninstall(flow, rule.ticket, lock);
    }
}

} // namespace xo::steering
