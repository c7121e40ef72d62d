-- GET requests for wrk over many vehicles or positions, in a fixed pseudo-random order: PATH is a
-- format with one %s, filled with WDDBENCH + 9 digits of a vehicle in 1…COUNT (KIND=vin), or a
-- number in 0…COUNT (KIND=number). KEY, PATH, KIND and COUNT come from the environment.
local state = 12345
local count = tonumber(os.getenv("COUNT") or "1000")
local kind = os.getenv("KIND") or "vin"
local path = os.getenv("PATH_FORMAT")

request = function()
  state = (state * 1103515245 + 12345) % 2147483648
  local n = state % count
  local value
  if kind == "vin" then value = string.format("WDDBENCH%09d", n + 1) else value = tostring(n) end
  local headers = {}
  headers["Authorization"] = "Bearer " .. os.getenv("KEY")
  return wrk.format("GET", string.format(path, value), headers)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.1f %.1f %.1f\n", summary.requests, summary.errors.status,
    summary.duration, latency:percentile(50), latency:percentile(99), latency.max))
end
