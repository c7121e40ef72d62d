-- GET /v1/vehicles/{vin}/manifest for wrk: cycles over COUNT benchmark vehicles (WDDBENCH + 9
-- digits) from FIRST on, which the activations run gave an entitlement each. KEY (an issuer or
-- admin key), FIRST and COUNT come from the environment.
local counter = 0
local count = tonumber(os.getenv("COUNT") or "1000")
local first = tonumber(os.getenv("FIRST") or "1")

request = function()
  counter = counter + 1
  local vin = string.format("WDDBENCH%09d", (counter - 1) % count + first)
  local headers = {}
  headers["Authorization"] = "Bearer " .. os.getenv("KEY")
  return wrk.format("GET", "/v1/vehicles/" .. vin .. "/manifest", headers)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.1f %.1f %.1f\n", summary.requests, summary.errors.status,
    summary.duration, latency:percentile(50), latency:percentile(99), latency.max))
end
