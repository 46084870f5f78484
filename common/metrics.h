// A tiny Prometheus metrics registry, shared by xo-gateway and xo-responder.
//
// Theory of operation: metrics are registered once, before the threads that
// update them start (registration is not thread-safe and returns references
// that stay valid for the registry's lifetime). After that, updating is a
// relaxed atomic add on the metric itself — no lock, no lookup, no
// allocation — so I/O threads never wait for each other or for a scrape.
// Series that share a name form one family (one # HELP / # TYPE block); each
// series is a fixed label set chosen at registration, which keeps cardinality
// bounded by construction. render() may run on any thread at any time: it
// reads each atomic once, so a scrape sees every increment that happened
// before it, possibly with a histogram's count a step ahead of its buckets
// (Prometheus tolerates that; nothing here blocks to prevent it).
//
// render() writes text exposition format 0.0.4: families in registration
// order, series in registration order, label values escaped (\\, \", \n),
// histograms as cumulative _bucket{le="..."} series ending in le="+Inf",
// then _sum and _count.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace xo::metrics {

/** A series' labels, in the order they are rendered. */
using Labels = std::vector<std::pair<std::string, std::string>>;

/** A monotonically increasing count. */
class Counter {
public:
    /** add() - count @n more; lock-free, callable from any thread. */
    void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/** A value that goes up and down (e.g. open connections). */
class Gauge {
public:
    /** add() - move the gauge by @n (negative to lower it); lock-free. */
    void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
    /** set() - make the gauge @v (a value measured elsewhere, e.g. a map's size); lock-free. */
    void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
    std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

/** Observations counted into fixed buckets, with their sum. */
class Histogram {
public:
    /** Histogram() - buckets with upper bounds @bounds (ascending; +Inf is implied). */
    explicit Histogram(std::vector<double> bounds);

    /** observe() - record one observation of @value; lock-free. */
    void observe(double value);

    const std::vector<double>& bounds() const { return bounds_; }
    /** bucket_count() - observations in bucket @i alone (not cumulative); i == bounds().size() is +Inf. */
    std::uint64_t bucket_count(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
    double sum() const { return sum_.load(std::memory_order_relaxed); }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_; ///< bounds_.size() + 1 buckets
    std::atomic<double> sum_{0.0};
};

class Registry {
public:
    Registry() = default;
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    /**
     * counter() - register the series @name{@labels}; @help describes the family.
     *
     * Registering the same name again adds a series to that family (the first
     * registration's help is kept). Reusing a name for another metric type is
     * a programming error and throws std::invalid_argument.
     * Return: the counter, valid as long as the registry.
     */
    Counter& counter(const std::string& name, const std::string& help, Labels labels = {});

    /** gauge() - as counter(), for a gauge series. */
    Gauge& gauge(const std::string& name, const std::string& help, Labels labels = {});

    /** histogram() - register the histogram @name with bucket upper bounds @bounds. */
    Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                         Labels labels = {});

    /** render() - every family in Prometheus text exposition format 0.0.4. */
    std::string render() const;

private:
    enum class Type { counter, gauge, histogram };
    struct Series {
        Labels labels;
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
    };
    struct Family {
        std::string name;
        std::string help;
        Type type;
        std::vector<Series> series;
    };

    Family& family(const std::string& name, const std::string& help, Type type);

    std::vector<Family> families_;
};

/** escape_label_value() - @value escaped for a label value: \\, \" and \n. */
std::string escape_label_value(const std::string& value);

/** format_value() - @value as Prometheus writes numbers (shortest round-trip, +Inf, NaN). */
std::string format_value(double value);

} // namespace xo::metrics
