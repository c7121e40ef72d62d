-- Quotes for wrk (scripts/bench-quotes.py). MODE=create: POST /v1/quotes of three items for a new
-- vehicle each (WDDBENCH + 9 digits from OFFSET on), the ids written to IDS (one per line).
-- MODE=accept: POST /v1/quotes/{id}/accept for the ids in IDS from line OFFSET on, each once, each
-- with its own Idempotency-Key. KEY: a dealer key (it accepts its own quotes at its counter).
local counter = 0
local ids = {}
local out = nil

init = function(args)
  if os.getenv("MODE") == "accept" then
    for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
  else
    out = io.open(os.getenv("IDS"), "a")
    out:setvbuf("line")  -- wrk ends without closing the threads' files
  end
end

request = function()
  counter = counter + 1
  local offset = tonumber(os.getenv("OFFSET") or "0")
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. os.getenv("KEY")
  if os.getenv("MODE") == "accept" then
    local id = ids[offset + counter] or ids[1]
    headers["Idempotency-Key"] = "accept-" .. (offset + counter)
    return wrk.format("POST", "/v1/quotes/" .. id .. "/accept", headers, "{}")
  end
  local vin = string.format("WDDBENCH%09d", offset + counter)
  local body = '{"vin":"' .. vin .. '","channel":"dealer","items":[{"feature":"NAV_PLUS","term":"P1Y"},'
    .. '{"feature":"PARK_ASSIST","term":"P1Y"},{"feature":"SOUND_PLUS","term":"P6M"}]}'
  return wrk.format("POST", "/v1/quotes", headers, body)
end

-- Only when making quotes: wrk hands every response to Lua when `response` exists, which would
-- cost the acceptances' run client CPU the activations' run does not spend.
if os.getenv("MODE") ~= "accept" then
  response = function(status, headers, body)
    if out ~= nil and status == 201 then
      local id = string.match(body, '"id":"(qt%-[0-9a-f]+)"')
      if id then out:write(id .. "\n") end
    end
  end
end

done = function(summary, latency, requests)
  if out ~= nil then out:close() end
  io.write(string.format("RESULT %d %d %d %.1f %.1f %.1f\n", summary.requests, summary.errors.status,
    summary.duration, latency:percentile(50), latency:percentile(99), latency.max))
end
