-- websocket-guard: for WebSocket upgrades, requires a subprotocol from config.protocols and
-- an origin from config.origins, tags the request, and logs the upstream's 101. Plain
-- requests pass untouched. (What flows after the 101 passes no stage.)
local function set(list)
  local out = {}
  for _, item in ipairs(list or {}) do out[item] = true end
  return out
end
local protocols, origins = set(config.protocols), set(config.origins)

local function is_upgrade(headers)
  return (headers:get("upgrade") or ""):lower() == "websocket"
end

function on_request(h)
  local headers = h:headers()
  if not is_upgrade(headers) then return end
  if not origins[headers:get("origin") or ""] then
    h:respond({ [":status"] = "403" }, "origin not allowed\n")
    return
  end
  local chosen
  for offered in (headers:get("sec-websocket-protocol") or ""):gmatch("[^,%s]+") do
    if protocols[offered] then chosen = offered break end
  end
  if not chosen then
    h:respond({ [":status"] = "400" }, "no supported subprotocol\n")
    return
  end
  headers:replace("sec-websocket-protocol", chosen)
  headers:add("x-websocket", "1")
  h:streamInfo():dynamicMetadata():set("websocket", "protocol", chosen)
end

function on_response(h)
  local meta = h:streamInfo():dynamicMetadata():get("websocket")
  if meta and h:headers():get(":status") == "101" then
    h:logInfo("websocket open: " .. meta.protocol)
  end
end
