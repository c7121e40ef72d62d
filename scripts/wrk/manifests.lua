-- GET /v1/vehicles/{vin}/manifest for wrk: cycles over the first COUNT benchmark vehicles
-- (WDDBENCH + 9 digits), which the activations run gave an entitlement each. KEY (an issuer or
-- admin key) and COUNT come from the environment.
local counter = 0
local count = tonumber(os.getenv("COUNT") or "1000")

request = function()
  counter = counter + 1
  local vin = string.format("WDDBENCH%09d", (counter - 1) % count + 1)
  local headers = {}
  headers["Authorization"] = "Bearer " .. os.getenv("KEY")
  return wrk.format("GET", "/v1/vehicles/" .. vin .. "/manifest", headers)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.1f %.1f %.1f\n", summary.requests, summary.errors.status,
    summary.duration, latency:percentile(50), latency:percentile(99), latency.max))
end
