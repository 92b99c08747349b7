-- Bench workload (a): x-request-start: t=<sec>.<msec>, computed in Lua.
function on_request(h)
  local ms = h:timestamp()
  h:headers():add("x-request-start", string.format("t=%d.%03d", ms // 1000, ms % 1000))
end
