-- Shared by every wrk scenario (bench/run.sh puts this file after the scenario's own part, which may define
-- `check(body)` -> true when the answer is right, and its own `request`/`init_scenario`).
-- Arguments after `--`: [1] file to append the first SAMPLES answers of each thread to ("-" for none), [2..] the scenario's.
-- done() prints one parsable line:
--   RESULT requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E status_errors=X bad_bodies=Y
-- errors = socket errors (connect, read, write, timeout) + non-2xx answers + 2xx answers whose body check failed.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

bad = 0
sampled = 0
local sample_path = nil
local SAMPLES = 3

function init(args)
  sample_path = args[1]
  if init_scenario then init_scenario(args) end
end

function response(status, headers, body)
  if status < 200 or status > 299 then -- wrk counts it in summary.errors.status
    if not shown_failure then io.stderr:write("first failed answer: ", status, " ", body:sub(1, 300), "\n"); shown_failure = true end
    return
  end
  if check and not check(body) then
    bad = bad + 1
    return
  end
  if sample_path and sample_path ~= "-" and sampled < SAMPLES then
    local f = io.open(sample_path, "a")
    if f then
      -- One write() per answer: wrk's threads append to the same file, and a line longer than the C library's 4 KiB
      -- buffer (a refresh answer with its three tokens) would otherwise reach it in pieces interleaved with another's.
      -- Unbuffered, the whole line goes in one call (glibc ignores setvbuf's size when it allocates the buffer itself).
      local line = body:gsub("\n", " ") .. "\n"
      f:setvbuf("no")
      f:write(line)
      f:close()
    end
    sampled = sampled + 1
  end
end

function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + (tonumber(t:get("bad")) or 0) end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout + b
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d status_errors=%d bad_bodies=%d\n",
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, e.status, b))
end
