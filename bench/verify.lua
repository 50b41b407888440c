-- wrk script for POST /v1/verify (and, for bench/authority.mjs, any one admin request).
-- Arguments (after `--`):
--   <valid-bodies-file> <junk-bodies-file|-> <junk-percent> <zipf|uniform|hot> [method path bearer]
-- With the optional last three, every request is `method path` with `Authorization: Bearer
-- <bearer>` and a body picked as below (an empty line sends none).
-- Each request picks its body at random: with <junk-percent> % chance a junk body (uniformly),
-- else a seeded token, either uniformly over all of them, or by popularity: Zipfian with theta
-- 0.99 (YCSB's default request distribution, where a few keys take most requests, as a few
-- integrations make most calls of an API) over the tokens in file order (the file order is itself
-- random), or "hot": uniformly over the first 100 only (a busy isolate's working set).
--
-- Latency is measured here, not by wrk: on our VMs wrk's own latency figures do not add up (their
-- mean times the request count exceeds connections × duration several times over). Run with as
-- many threads as connections (one connection per thread), so that in each thread request() and
-- response() strictly alternate and the time between them is that request's latency, taken from
-- CLOCK_MONOTONIC through LuaJIT's FFI. done() prints one KW_LATENCY line for bench/run.mjs.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } kw_timespec;
int clock_gettime(int clock, kw_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("kw_timespec")
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

-- Per thread: latencies in µs (a global, so done() can read it with thread:get).
lat = {}
local started
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

local valid, junk = {}, {}
local junk_share, zipf, hot = 0, false, 0
local cdf = {}
local headers = { ["Content-Type"] = "application/json" }
local method, path = "POST", nil

local function read(path, into)
  for line in io.lines(path) do
    into[#into + 1] = line
  end
end

function init(args)
  read(args[1], valid)
  if args[2] and args[2] ~= "-" then read(args[2], junk) end
  junk_share = (tonumber(args[3]) or 0) / 100
  zipf = args[4] == "zipf"
  if args[5] then
    method, path = args[5], args[6]
    headers["Authorization"] = "Bearer " .. args[7]
  end
  if args[4] == "hot" then hot = math.min(100, #valid) end
  if zipf then
    local total = 0
    for i = 1, #valid do
      total = total + 1 / i ^ 0.99
      cdf[i] = total
    end
    for i = 1, #valid do cdf[i] = cdf[i] / total end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

local function pick_valid()
  if hot > 0 then return valid[math.random(hot)] end
  if not zipf then return valid[math.random(#valid)] end
  local u, lo, hi = math.random(), 1, #valid
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return valid[lo]
end

function request()
  local body
  if #junk > 0 and math.random() < junk_share then
    body = junk[math.random(#junk)]
  else
    body = pick_valid()
  end
  started = now_us()
  if body == "" then body = nil end
  return wrk.format(method, path, headers, body)
end

function response()
  if started then
    lat[#lat + 1] = now_us() - started
    started = nil
  end
end

function done(summary)
  local all = {}
  for _, t in ipairs(threads) do
    local l = t:get("lat") or {}
    for i = 1, #l do all[#all + 1] = l[i] end
  end
  if #all == 0 then return end
  table.sort(all)
  local sum = 0
  for i = 1, #all do sum = sum + all[i] end
  local function pct(p) return all[math.max(1, math.ceil(#all * p / 100))] end
  io.write(string.format("KW_LATENCY n=%d mean_us=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f duration_us=%d\n",
    #all, sum / #all, pct(50), pct(99), all[#all], summary.duration))
end
