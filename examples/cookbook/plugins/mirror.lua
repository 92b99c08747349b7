-- mirror: sends a copy of each request (method, path, headers, body) to config.cluster and
-- does not wait for it: the call is asynchronous, so a slow or failing mirror never delays
-- or fails the client's request. config.percent mirrors a share of requests (default 100).
local cluster = config.cluster or "mirror"
local percent = config.percent or 100
local timeout_ms = config.timeout_ms or 1000

function on_request(h)
  if percent < 100 and math.random(1, 100) > percent then return end
  local copy = {}
  for name, value in pairs(h:headers()) do
    copy[name] = copy[name] and (copy[name] .. "," .. value) or value
  end
  copy["x-mirrored-by"] = "luxy"
  local body = h:body()
  h:httpCall(cluster, copy, body and body:getBytes(0, body:length()) or "",
    { timeout_ms = timeout_ms, asynchronous = true })
end
