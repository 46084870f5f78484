// xo-get-load: a small closed-loop HTTP/1.1 GET load generator.
//
//   xo-get-load --url http://IP:PORT/bucket/key [--url ...]
//               --concurrency N (--requests M | --duration S)
//               [--keepalive 1|0] [--json] [--threads T]
//               [--timeout S] [--max-seconds S]
//
// N connections each loop: send GET, read the response header (TTFB), read
// the body into a discard buffer, record the sample, repeat.  Connection i
// uses URL i % (number of URLs).  Requests are anonymous.
//
// Accounting:
//   * requests  = attempts that completed (any status) or failed with an I/O
//                 error; errors = non-2xx responses + I/O errors.
//   * latency   = from the start of writing the request to the last body
//                 byte, over completed 2xx responses; TTFB = from the same
//                 start to the end of the response header, over every 2xx
//                 header received (also of requests later cut off).
//   * MiB/s     = all body bytes received (including requests cut off when
//                 the run ends) / elapsed wall time.
//   * req/s     = completed requests / elapsed wall time.
//
// The run is always bounded: --requests caps the number of attempts (default
// 10,000,000 when only --duration is given), and --max-seconds (default 600)
// caps the wall time even in --requests mode.  Every socket operation has a
// --timeout (default 30 s).
//
// Exit status: 0 if every request succeeded, 1 if any failed or the hard cap
// was hit in --requests mode, 2 for bad usage.

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>; GCC 12 no longer pulls it in transitively.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Url {
  std::string host;
  std::string port;
  std::string target;
  std::string text;
};

std::optional<Url> parse_url(const std::string& s) {
  const std::string scheme = "http://";
  if (s.rfind(scheme, 0) != 0) return std::nullopt;
  std::string rest = s.substr(scheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  Url u;
  u.text = s;
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!hostport.empty() && hostport.front() == '[') {  // [v6]:port
    auto close = hostport.find(']');
    if (close == std::string::npos) return std::nullopt;
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      u.port = hostport.substr(close + 2);
  } else {
    auto colon = hostport.rfind(':');
    u.host = hostport.substr(0, colon);
    if (colon != std::string::npos) u.port = hostport.substr(colon + 1);
  }
  if (u.port.empty()) u.port = "80";
  if (u.host.empty()) return std::nullopt;
  return u;
}

struct Options {
  std::vector<Url> urls;
  int concurrency = 1;
  std::uint64_t requests = 0;  // 0 = not given
  double duration = 0;         // 0 = not given
  bool keepalive = true;
  bool json = false;
  int threads = 1;
  double timeout = 30;
  double max_seconds = 600;
};

// Per-connection results; only touched by that connection's coroutine until
// the io_context has stopped.
struct Stats {
  std::uint64_t requests = 0;
  std::uint64_t http_errors = 0;
  std::uint64_t io_errors = 0;
  std::uint64_t bytes = 0;  // every body byte received, partial included
  std::string first_error;
  std::vector<double> latency_ms;
  std::vector<double> ttfb_ms;
};

struct Run {
  Options opt;
  asio::io_context ioc;
  std::vector<tcp::resolver::results_type> endpoints;  // one per URL
  std::atomic<std::uint64_t> issued{0};
  std::atomic<int> active{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> hit_cap{false};
  Clock::time_point start;
  Clock::time_point end;
  Clock::time_point soft_deadline;  // --duration
  std::atomic<bool> ended{false};

  explicit Run(Options o) : opt(std::move(o)), ioc(opt.threads) {}

  void finish() {  // first caller records the end time, then everyone stops
    bool expected = false;
    if (ended.compare_exchange_strong(expected, true)) end = Clock::now();
    stopping = true;
    ioc.stop();
  }

  bool take_slot() {
    if (stopping) return false;
    if (opt.duration > 0 && Clock::now() >= soft_deadline) return false;
    return issued.fetch_add(1) < opt.requests;
  }
};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

asio::awaitable<void> pause(Clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  beast::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> connection(Run& run, const Url& url,
                                 const tcp::resolver::results_type& eps,
                                 Stats& st) {
  const auto timeout = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(run.opt.timeout));
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  beast::flat_buffer fbuf;
  std::vector<char> discard(256 * 1024);
  bool connected = false;

  http::request<http::empty_body> req{http::verb::get, url.target, 11};
  req.set(http::field::host, url.port == "80" ? url.host : url.host + ":" + url.port);
  req.set(http::field::user_agent, "xo-get-load");
  req.keep_alive(run.opt.keepalive);

  while (run.take_slot()) {
    const auto t0 = Clock::now();
    beast::error_code ec;
    ++st.requests;
    if (!connected) {
      stream.expires_after(timeout);
      co_await stream.async_connect(eps, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        stream.socket().set_option(tcp::no_delay(true), ec);
        connected = !ec;
        fbuf.clear();
      }
    }
    double ttfb = 0;  // ms
    if (!ec) {
      stream.expires_after(timeout);
      co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    }
    http::response_parser<http::buffer_body> parser;
    // Not boost::none: Boost 1.74 compares `len > none` as true for
    // Content-Length bodies and fails with "body limit exceeded".
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (!ec) {
      stream.expires_after(timeout);
      co_await http::async_read_header(stream, fbuf, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      ttfb = ms_since(t0);
      // TTFB counts as soon as a 2xx header is in, so large objects cut off
      // by the end of a --duration run still contribute it.
      const unsigned code = ec ? 0 : parser.get().result_int();
      if (code >= 200 && code < 300) st.ttfb_ms.push_back(ttfb);
    }
    while (!ec && !parser.is_done()) {
      auto& body = parser.get().body();
      body.data = discard.data();
      body.size = discard.size();
      stream.expires_after(timeout);
      co_await http::async_read(stream, fbuf, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      st.bytes += discard.size() - parser.get().body().size;
    }
    if (ec) {
      ++st.io_errors;
      if (st.first_error.empty()) st.first_error = ec.message();
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.close();
      connected = false;
      if (run.stopping) break;
      co_await pause(std::chrono::milliseconds(10));  // don't spin on a dead server
      continue;
    }
    const unsigned status = parser.get().result_int();
    const bool keep = run.opt.keepalive && parser.get().keep_alive();
    if (status >= 200 && status < 300) {
      st.latency_ms.push_back(ms_since(t0));
    } else {
      ++st.http_errors;
      if (st.first_error.empty()) st.first_error = "HTTP " + std::to_string(status);
    }
    if (!keep) {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.close();
      connected = false;
    }
  }
  if (connected) {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
}

// Nearest-rank percentile (sorts v).
double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

[[noreturn]] void usage(const char* msg) {
  if (msg) std::cerr << "xo-get-load: " << msg << "\n";
  std::cerr << "usage: xo-get-load --url http://IP:PORT/bucket/key [--url ...]\n"
               "         --concurrency N (--requests M | --duration S)\n"
               "         [--keepalive 1|0] [--json] [--threads T]\n"
               "         [--timeout S] [--max-seconds S]\n";
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage((std::string("missing value for ") + argv[i]).c_str());
    return argv[++i];
  };
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--url") {
        auto u = parse_url(value(i));
        if (!u) usage("bad --url (want http://host:port/path)");
        o.urls.push_back(*u);
      } else if (a == "--concurrency" || a == "-c") {
        o.concurrency = std::stoi(value(i));
      } else if (a == "--requests" || a == "-n") {
        o.requests = std::stoull(value(i));
      } else if (a == "--duration" || a == "-d") {
        o.duration = std::stod(value(i));
      } else if (a == "--keepalive") {
        o.keepalive = std::stoi(value(i)) != 0;
      } else if (a == "--json") {
        o.json = true;
      } else if (a == "--threads") {
        o.threads = std::stoi(value(i));
      } else if (a == "--timeout") {
        o.timeout = std::stod(value(i));
      } else if (a == "--max-seconds") {
        o.max_seconds = std::stod(value(i));
      } else if (a == "--help" || a == "-h") {
        usage(nullptr);
      } else {
        usage(("unknown argument " + a).c_str());
      }
    }
  } catch (const std::exception&) {
    usage("bad numeric value");
  }
  if (o.urls.empty()) usage("at least one --url is required");
  if (o.concurrency < 1 || o.concurrency > 10000) usage("--concurrency must be 1..10000");
  if (o.threads < 1 || o.threads > 64) usage("--threads must be 1..64");
  if (o.requests == 0 && o.duration <= 0) usage("give --requests or --duration");
  if (o.timeout <= 0 || o.max_seconds <= 0) usage("--timeout/--max-seconds must be > 0");
  if (o.requests == 0) o.requests = 10'000'000;
  if (o.duration > o.max_seconds) o.duration = o.max_seconds;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Run run(parse_args(argc, argv));
  const Options& opt = run.opt;

  tcp::resolver resolver(run.ioc);
  for (const auto& u : opt.urls) {
    beast::error_code ec;
    run.endpoints.push_back(resolver.resolve(u.host, u.port, ec));
    if (ec) {
      std::cerr << "xo-get-load: cannot resolve " << u.host << ": " << ec.message() << "\n";
      return 2;
    }
  }

  std::vector<Stats> stats(static_cast<std::size_t>(opt.concurrency));
  run.start = Clock::now();
  run.soft_deadline =
      run.start + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(opt.duration));
  const auto hard_deadline =
      run.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                      opt.duration > 0 ? opt.duration : opt.max_seconds));

  // With --duration the timer ends the run (in-flight requests are cut off);
  // with --requests it is only the hard cap.
  asio::steady_timer deadline(run.ioc, hard_deadline);
  deadline.async_wait([&](beast::error_code ec) {
    if (ec) return;
    if (opt.duration <= 0) run.hit_cap = true;
    run.finish();
  });

  run.active = opt.concurrency;
  for (int i = 0; i < opt.concurrency; ++i) {
    const std::size_t u = static_cast<std::size_t>(i) % opt.urls.size();
    asio::co_spawn(asio::make_strand(run.ioc),
                   connection(run, opt.urls[u], run.endpoints[u],
                              stats[static_cast<std::size_t>(i)]),
                   [&run](std::exception_ptr) {
                     if (--run.active == 0) run.finish();
                   });
  }

  std::vector<std::thread> pool;
  for (int t = 1; t < opt.threads; ++t) pool.emplace_back([&] { run.ioc.run(); });
  run.ioc.run();
  for (auto& t : pool) t.join();
  if (!run.ended) run.end = Clock::now();

  Stats all;
  for (auto& s : stats) {
    all.requests += s.requests;
    all.http_errors += s.http_errors;
    all.io_errors += s.io_errors;
    all.bytes += s.bytes;
    if (all.first_error.empty()) all.first_error = s.first_error;
    all.latency_ms.insert(all.latency_ms.end(), s.latency_ms.begin(), s.latency_ms.end());
    all.ttfb_ms.insert(all.ttfb_ms.end(), s.ttfb_ms.begin(), s.ttfb_ms.end());
  }
  // Requests cut off by the end of a --duration run are not counted as
  // requests or errors (their bytes still count towards throughput).
  const std::uint64_t completed = all.latency_ms.size() + all.http_errors + all.io_errors;
  const std::uint64_t cut_off = all.requests > completed ? all.requests - completed : 0;
  const std::uint64_t errors = all.http_errors + all.io_errors;
  const double elapsed = std::max(
      1e-9, std::chrono::duration<double>(run.end - run.start).count());
  const double mib_s = static_cast<double>(all.bytes) / (1024.0 * 1024.0) / elapsed;
  const double req_s = static_cast<double>(completed) / elapsed;
  const double lat50 = percentile(all.latency_ms, 50), lat99 = percentile(all.latency_ms, 99);
  const double ttfb50 = percentile(all.ttfb_ms, 50), ttfb99 = percentile(all.ttfb_ms, 99);

  // Percentiles need at least one 2xx response; otherwise JSON says null
  // and the human form says n/a (e.g. 64 MiB objects cut off by --duration).
  auto num = [](double v, const char* none, bool have) {
    char b[32];
    if (have) std::snprintf(b, sizeof b, "%.3f", v); else std::snprintf(b, sizeof b, "%s", none);
    return std::string(b);
  };
  if (opt.json) {
    std::printf(
        "{\"url\":\"%s\",\"concurrency\":%d,\"requests\":%llu,\"errors\":%llu,"
        "\"http_errors\":%llu,\"io_errors\":%llu,\"cut_off\":%llu,\"bytes\":%llu,"
        "\"elapsed_s\":%.3f,\"mib_s\":%.2f,\"req_s\":%.2f,\"lat_p50_ms\":%s,"
        "\"lat_p99_ms\":%s,\"ttfb_p50_ms\":%s,\"ttfb_p99_ms\":%s,\"hit_cap\":%s}\n",
        opt.urls.front().text.c_str(), opt.concurrency,
        static_cast<unsigned long long>(completed), static_cast<unsigned long long>(errors),
        static_cast<unsigned long long>(all.http_errors),
        static_cast<unsigned long long>(all.io_errors),
        static_cast<unsigned long long>(cut_off), static_cast<unsigned long long>(all.bytes),
        elapsed, mib_s, req_s, num(lat50, "null", !all.latency_ms.empty()).c_str(), num(lat99, "null", !all.latency_ms.empty()).c_str(),
        num(ttfb50, "null", !all.ttfb_ms.empty()).c_str(), num(ttfb99, "null", !all.ttfb_ms.empty()).c_str(),
        run.hit_cap ? "true" : "false");
  } else {
    std::printf("url          %s%s\n", opt.urls.front().text.c_str(),
                opt.urls.size() > 1 ? " (+more)" : "");
    std::printf("concurrency  %d  keepalive %d  elapsed %.3f s%s\n", opt.concurrency,
                opt.keepalive ? 1 : 0, elapsed, run.hit_cap ? "  (HARD CAP HIT)" : "");
    std::printf("requests     %llu  errors %llu (http %llu, io %llu)  cut off %llu\n",
                static_cast<unsigned long long>(completed),
                static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(all.http_errors),
                static_cast<unsigned long long>(all.io_errors),
                static_cast<unsigned long long>(cut_off));
    std::printf("throughput   %.2f MiB/s  %.2f req/s  (%llu body bytes)\n", mib_s, req_s,
                static_cast<unsigned long long>(all.bytes));
    std::printf("latency ms   p50 %s  p99 %s\n", num(lat50, "n/a", !all.latency_ms.empty()).c_str(),
                num(lat99, "n/a", !all.latency_ms.empty()).c_str());
    std::printf("ttfb ms      p50 %s  p99 %s\n", num(ttfb50, "n/a", !all.ttfb_ms.empty()).c_str(),
                num(ttfb99, "n/a", !all.ttfb_ms.empty()).c_str());
  }
  if (!all.first_error.empty())
    std::fprintf(stderr, "xo-get-load: first error: %s\n", all.first_error.c_str());
  return (errors > 0 || completed == 0 || run.hit_cap) ? 1 : 0;
}
