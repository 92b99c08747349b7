-- header-stamp: tells the app which pod's sidecar let the request in.
local value = config.value or "luxy"

function envoy_on_request(h)
  h:headers():replace("x-luxy-stamp", value)
end
