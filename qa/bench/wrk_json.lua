-- wrk_json.lua — makes wrk end with one JSON line of exact totals, for the
-- benchmarks in qa/bench (wrk's own summary rounds bytes to 2 decimals of a
-- unit). Defines only done(), so the request path stays wrk's native C one.
--
-- Theory of operation: wrk calls done(summary, latency, requests) once after
-- the run; summary.bytes counts every byte read from the sockets (headers and
-- bodies, including bodies cut off by the end of the run), summary.duration
-- is in microseconds, latency percentiles are microseconds per completed
-- request (time from sending the request to the end of the response). The
-- line is {"bytes","elapsed_s","requests","errors","err":{...},"lat_p50_ms",
-- "lat_p99_ms"}; the latency fields are null when no request completed.
-- errors counts connect/read/write errors, timeouts and non-2xx/3xx answers.
done = function(summary, latency, requests)
  local e = summary.errors
  local function pct(p)
    if summary.requests == 0 or latency.max == 0 then return "null" end
    return string.format("%.3f", latency:percentile(p) / 1000)
  end
  io.write(string.format(
    '{"bytes":%d,"elapsed_s":%.6f,"requests":%d,"errors":%d,' ..
    '"err":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"lat_p50_ms":%s,"lat_p99_ms":%s}\n',
    summary.bytes, summary.duration / 1e6, summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout,
    e.connect, e.read, e.write, e.status, e.timeout, pct(50), pct(99)))
end
