-- response-rewrite: rewrites text in HTML and JSON responses (config.replace: from → to) and
-- hides the backend's server header. Buffers only the bodies it rewrites.
local replace = config.replace or {}

function on_response(h)
  local headers = h:headers()
  headers:remove("x-powered-by")
  headers:replace("server", "luxy")
  local kind = headers:get("content-type") or ""
  if not (kind:find("text/html", 1, true) or kind:find("json", 1, true)) then return end
  local body = h:body()
  if body == nil then return end
  local text = body:getBytes(0, body:length())
  for from, to in pairs(replace) do
    text = text:gsub(from:gsub("%p", "%%%0"), (to:gsub("%%", "%%%%")))
  end
  body:setBytes(text)                    -- content-length follows
end
