-- api-key-limit: at most config.requests requests per config.window seconds for each
-- x-api-key (a fixed window counted in a luxy.shared dictionary, so every worker shares the
-- count); past it, 429 with retry-after. Requests without a key are not limited here.
local counts = luxy.shared(config.dict or "api-key-limit")
local limit = assert(config.requests, "api-key-limit: config.requests is not set")
local window = config.window or 60

function on_request(h)
  local key = h:headers():get("x-api-key")
  if key == nil then return end
  local slot = os.time() // window
  local n = counts:incr(key .. "@" .. slot, 1, 0, window)
  if n > limit then
    h:respond({ [":status"] = "429", ["retry-after"] = tostring((slot + 1) * window - os.time()) },
      "too many requests\n")
  end
end
