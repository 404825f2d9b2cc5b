-- wrk's side of bench/cluster_bench.sh: the same load as `minidynamo bench`, from an independent
-- client. Each request is a GET of one of KEYS preloaded keys (PREFIX0 .. PREFIX<KEYS-1>, as
-- `minidynamo bench --key-prefix PREFIX` writes them) or a PUT of a fresh key (a write
-- without a context, so no read comes first), with a VALUE_BYTES-byte value of letters;
-- READ_PERCENT of them GETs. Quorums from N, R, W; AUTHORIZATION, if set, is sent as the
-- Authorization header. All from the environment:
--   KEYS=10000 VALUE_BYTES=100 READ_PERCENT=50 PREFIX=b1: N=3 R=2 W=2 wrk -s bench/wrk_mixed.lua ...
local keys = tonumber(os.getenv("KEYS") or "10000")
local value_bytes = tonumber(os.getenv("VALUE_BYTES") or "100")
local read_percent = tonumber(os.getenv("READ_PERCENT") or "50")
local prefix = os.getenv("PREFIX") or "b1:"
local n, r, w = os.getenv("N") or "3", os.getenv("R") or "2", os.getenv("W") or "2"
local authorization = os.getenv("AUTHORIZATION")  -- sent with every request when set (--security on)

local counter = 0
local thread_tag

function setup(thread)
  thread:set("thread_tag", tostring(math.random(1, 1e9)))
end

function init(args)
  thread_tag = thread_tag or tostring(math.random(1, 1e9))
  math.randomseed(tonumber(thread_tag))
end

local letters = "abcdefghijklmnopqrstuvwxyz"
local function value()
  local t = {}
  for i = 1, value_bytes do
    local c = math.random(1, 26)
    t[i] = letters:sub(c, c)
  end
  return table.concat(t)
end

function request()
  if math.random(1, 100) <= read_percent then
    local key = prefix .. math.random(0, keys - 1)
    return wrk.format("GET", "/kv/" .. key .. "?R=" .. r, {["Authorization"] = authorization})
  end
  counter = counter + 1
  local key = prefix .. "fresh" .. thread_tag .. "-" .. counter
  local body = '{"value":"' .. value() .. '","N":' .. n .. ',"W":' .. w .. '}'
  return wrk.format("PUT", "/kv/" .. key, {["Content-Type"] = "application/json", ["Authorization"] = authorization}, body)
end

-- Answers other than 200 (a read of a key not found is 404) are counted by wrk as non-2xx; the
-- script prints them so that a run that measured errors cannot pass for one that measured work.
function done(summary, latency, requests)
  io.write(string.format("WRK_JSON {\"requests\":%d,\"seconds\":%.3f,\"non_2xx\":%d,\"errors\":%d,"
    .. "\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
