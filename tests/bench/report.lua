-- wrk script of tests/bench/run: after the run, one machine-readable line
--   RESULT <requests/s> <p99 µs> <non-2xx/3xx answers> <socket errors>
-- on stdout, so the driver does not have to parse wrk's human summary
-- (whose units change between µs, ms and s).
function done(summary, latency, requests)
    local seconds = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format("RESULT %.1f %d %d %d\n",
        summary.requests / seconds, latency:percentile(99), e.status,
        e.connect + e.read + e.write + e.timeout))
end
