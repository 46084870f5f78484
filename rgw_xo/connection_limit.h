// Theory of operation: the gateway serves at most --max-connections client
// connections at once, counted across all workers by one atomic: a
// connection takes a Slot when it is accepted and gives it back when its
// session ends. A connection beyond the limit is not queued: the worker
// answers it 503 SlowDown at once, without reading its request, and closes
// it gracefully (Worker::refuse), so S3 clients back off and retry while the
// connections being served keep their resources. Refusals are bounded too:
// each worker lingers on at most max_refusing of them at a time and closes
// further ones at once without an answer.
//
// The default limit follows from the open files limit (open_files.h): a
// connection holds two descriptors, the client's and its radosgw
// connection, and a reserve is kept for listeners, logs, responder control
// channels and librados.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace xo::gw {

class ConnectionLimit {
public:
    /** Slot - one connection counted against the limit until the slot is destroyed. */
    class Slot {
    public:
        Slot(Slot&& other) noexcept : limit_(std::exchange(other.limit_, nullptr)) {}
        Slot& operator=(Slot&&) = delete;
        ~Slot()
        {
            if (limit_)
                limit_->in_use_.fetch_sub(1, std::memory_order_relaxed);
        }

    private:
        friend class ConnectionLimit;
        explicit Slot(ConnectionLimit* limit) : limit_(limit) {}
        ConnectionLimit* limit_;
    };

    explicit ConnectionLimit(std::size_t max) : max_(max) {}
    ConnectionLimit(const ConnectionLimit&) = delete;
    ConnectionLimit& operator=(const ConnectionLimit&) = delete;

    /** try_take() - a slot, or nullopt when @max connections hold one; any thread. */
    std::optional<Slot> try_take()
    {
        if (in_use_.fetch_add(1, std::memory_order_relaxed) >= max_) {
            in_use_.fetch_sub(1, std::memory_order_relaxed);
            return std::nullopt;
        }
        return Slot(this);
    }

    std::size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
    std::size_t max() const { return max_; }

private:
    const std::size_t max_;
    std::atomic<std::size_t> in_use_{0};
};

/** Refused connections a worker answers at a time; more are closed without an answer. */
inline constexpr std::size_t max_refusing = 64;

/** connections_for_open_files() - the default --max-connections with @open_files descriptors. */
std::size_t connections_for_open_files(std::uint64_t open_files);

} // namespace xo::gw
