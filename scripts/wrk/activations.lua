-- POST /v1/activations for wrk: every request a new vehicle (WDDBENCH + 9 digits, registered by the
-- benchmark) and a new Idempotency-Key. KEY comes from the environment; OFFSET (default 0) starts
-- the vehicles further on, so that two wrk processes (two instances) book different ones.
local counter = 0
local thread_id = 0
local next_id = 0

setup = function(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

request = function()
  counter = counter + 1
  local index = thread_id * 100000 + counter + tonumber(os.getenv("OFFSET") or "0")
  local vin = string.format("WDDBENCH%09d", index)
  local body = '{"vin":"' .. vin .. '","feature":"ACC","term":"P1M"}'
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. os.getenv("KEY")
  headers["Idempotency-Key"] = "bench-" .. index
  return wrk.format("POST", "/v1/activations", headers, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.1f %.1f %.1f\n", summary.requests, summary.errors.status,
    summary.duration, latency:percentile(50), latency:percentile(99), latency.max))
end
