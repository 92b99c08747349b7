-- Fixture: the first stage of chain.yaml; records what it saw in dynamic metadata.
function on_request(h)
  h:streamInfo():dynamicMetadata():set("fixture", "first", "ran")
  h:headers():add("x-order", "first")
end

function on_response(h)
  h:headers():add("x-order", "first")
end

-- The log phase: what it saw of how the request ended.
function on_log(h)
  local info = h:streamInfo()
  h:accessLog("fixture", "first " .. info:responseCode() .. " " .. info:responseFlags())
end
