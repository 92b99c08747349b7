-- throttle-route and throttle-service (a link to this file): a local rate limit per route
-- or per destination service (or per header value or client address), shared by every
-- worker through the shared dictionary `config.dict`. Over the
-- limit the request is answered 429 with retry-after and x-ratelimit-limit/remaining/reset,
-- and its log line carries the response flag RL.
--
-- The bucket is a token bucket kept as one number per key, GCRA style: the time at which the
-- bucket would be full again ("theoretical arrival time"). A request takes a token by moving
-- it on by one interval, with compare-and-set, so two workers never both take the last one.
--
-- config:
--   requests: tokens per period (required); period: seconds (default 1)
--   burst: bucket size (default: requests)
--   key: route | service | header | client; header: the header for key=header. Default:
--     service for throttle-service (the route when it names none), route for throttle-route
--   dict: the shared dictionary (default "throttle")

schema = {
  type = "object",
  required = { "requests" },
  properties = {
    requests = { type = "integer", minimum = 1 },
    period = { type = "number", minimum = 0.001, default = 1 },
    burst = { type = "integer", minimum = 1 },
    key = { type = "string", enum = { "route", "service", "header", "client" },
            description = "default: by the file's name, service for throttle-service, else route" },
    header = { type = "string", minLength = 1 },
    dict = { type = "string", minLength = 1, default = "throttle" },
  },
}

-- One script, two names: which one this is, Lua's own "chunk:line:" prefix of an error
-- raised here says (the file name survives any shortening of a long path).
local here = select(2, pcall(function() error("", 1) end))
local key_kind = config.key or (here:find("throttle%-service%.lua") and "service" or "route")

if key_kind == "header" and not config.header then
  error("throttle: key = header needs config.header", 0)
end

local requests = config.requests
local burst = config.burst or requests
local interval = config.period * 1000 / requests  -- ms per token
local tolerance = (burst - 1) * interval          -- how far ahead of now the bucket may run
local ttl = (burst * interval) / 1000 + 1         -- an idle key expires once its bucket is full
local dict = luxy.shared(config.dict)
-- Distinct limits never share a bucket, even on one dictionary.
local prefix = key_kind .. "|" .. requests .. "/" .. config.period .. "/" .. burst .. "|"
local header = config.header and config.header:lower()
local limit_text = tostring(requests)

local key_of = {
  route = function(h) return h:route() or "-" end,
  service = function(h) return h:service() or h:route() or "-" end,
  header = function(h) return h:headers():get(header) end,
  client = function(h)
    local address = h:streamInfo():downstreamRemoteAddress()
    return address:match("^%[?(.-)%]?:%d+$") or address
  end,
}
local key_for = key_of[key_kind]

local ceil = math.ceil

function on_request(h)
  local key = key_for(h)
  if key == nil then return end  -- key = header and the request has none: not limited
  key = prefix .. key
  local now = h:timestamp()
  -- A few rounds at most: a round fails only when another worker took a token meanwhile.
  for _ = 1, 8 do
    local stored = dict:get(key)
    local tat = stored or now
    if tat < now then tat = now end
    local ahead = tat - now
    if ahead > tolerance then
      h:streamInfo():setResponseFlag("RL")
      h:respond({
        [":status"] = "429",
        ["retry-after"] = tostring(ceil((ahead - tolerance) / 1000)),
        ["x-ratelimit-limit"] = limit_text,
        ["x-ratelimit-remaining"] = "0",
        ["x-ratelimit-reset"] = tostring(ceil(ahead / 1000)),
      }, "rate limited\n")
      return
    end
    if dict:cas(key, stored, tat + interval, ttl) then return end
  end
  -- Lost every round to other workers: let it pass rather than fail it (fail open).
end
