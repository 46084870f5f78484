#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace xo::metrics {

namespace {

const char* type_name(int type)
{
    static const char* const names[] = {"counter", "gauge", "histogram"};
    return names[type];
}

/* escape_help() - HELP text escapes only backslash and newline. */
std::string escape_help(const std::string& help)
{
    std::string out;
    out.reserve(help.size());
    for (char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

/* append_labels() - `{k="v",...}` for @labels plus an optional trailing @le bound. */
void append_labels(std::string& out, const Labels& labels, const std::string* le = nullptr)
{
    if (labels.empty() && !le)
        return;
    out += '{';
    bool first = true;
    for (const auto& [key, value] : labels) {
        if (!first)
            out += ',';
        first = false;
        out += key;
        out += "=\"";
        out += escape_label_value(value);
        out += '"';
    }
    if (le) {
        if (!first)
            out += ',';
        out += "le=\"";
        out += *le;
        out += '"';
    }
    out += '}';
}

void append_sample(std::string& out, const std::string& name, const Labels& labels, const std::string& value,
                   const std::string* le = nullptr)
{
    out += name;
    append_labels(out, labels, le);
    out += ' ';
    out += value;
    out += '\n';
}

void append_histogram(std::string& out, const std::string& name, const Labels& labels, const Histogram& h)
{
    const std::string bucket_name = name + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
        cumulative += h.bucket_count(i);
        const std::string le = i < h.bounds().size() ? format_value(h.bounds()[i]) : "+Inf";
        append_sample(out, bucket_name, labels, std::to_string(cumulative), &le);
    }
    append_sample(out, name + "_sum", labels, format_value(h.sum()));
    append_sample(out, name + "_count", labels, std::to_string(cumulative));
}

} // namespace

std::string escape_label_value(const std::string& value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string format_value(double value)
{
    if (std::isnan(value))
        return "NaN";
    if (std::isinf(value))
        return value > 0 ? "+Inf" : "-Inf";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    if (ec != std::errc())
        return "NaN";
    return std::string(buf, end);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1))
{
    std::sort(bounds_.begin(), bounds_.end());
    bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
}

void Histogram::observe(double value)
{
    // The first bucket whose upper bound is >= value (Prometheus' le is inclusive).
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

Registry::Family& Registry::family(const std::string& name, const std::string& help, Type type)
{
    for (auto& f : families_) {
        if (f.name != name)
            continue;
        if (f.type != type)
            throw std::invalid_argument("metric " + name + " registered as two types");
        return f;
    }
    families_.push_back(Family{name, help, type, {}});
    return families_.back();
}

Counter& Registry::counter(const std::string& name, const std::string& help, Labels labels)
{
    auto& series = family(name, help, Type::counter).series;
    series.push_back(Series{std::move(labels), std::make_unique<Counter>(), nullptr, nullptr});
    return *series.back().counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, Labels labels)
{
    auto& series = family(name, help, Type::gauge).series;
    series.push_back(Series{std::move(labels), nullptr, std::make_unique<Gauge>(), nullptr});
    return *series.back().gauge;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                               Labels labels)
{
    auto& series = family(name, help, Type::histogram).series;
    series.push_back(Series{std::move(labels), nullptr, nullptr, std::make_unique<Histogram>(std::move(bounds))});
    return *series.back().histogram;
}

std::string Registry::render() const
{
    std::string out;
    for (const auto& f : families_) {
        out += "# HELP " + f.name + ' ' + escape_help(f.help) + '\n';
        out += "# TYPE " + f.name + ' ' + type_name(static_cast<int>(f.type)) + '\n';
        for (const auto& s : f.series) {
            if (s.counter)
                append_sample(out, f.name, s.labels, std::to_string(s.counter->value()));
            else if (s.gauge)
                append_sample(out, f.name, s.labels, std::to_string(s.gauge->value()));
            else
                append_histogram(out, f.name, s.labels, *s.histogram);
        }
    }
    return out;
}

} // namespace xo::metrics
