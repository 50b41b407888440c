-- wrk script for POST /v1/verify. Arguments (after `--`):
--   <valid-bodies-file> <junk-bodies-file|-> <junk-percent> <zipf|uniform|hot>
-- Each request picks its body at random: with <junk-percent> % chance a junk body (uniformly),
-- else a seeded token, either uniformly over all of them, or by popularity: Zipfian with theta
-- 0.99 (YCSB's default request distribution, where a few keys take most requests, as a few
-- integrations make most calls of an API) over the tokens in file order (the file order is itself
-- random), or "hot": uniformly over the first 100 only (a busy isolate's working set).
local valid, junk = {}, {}
local junk_share, zipf, hot = 0, false, 0
local cdf = {}
local headers = { ["Content-Type"] = "application/json" }

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
  return wrk.format("POST", nil, headers, body)
end
