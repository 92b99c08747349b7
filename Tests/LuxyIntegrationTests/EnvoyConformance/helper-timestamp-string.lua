-- Envoy: timestampString() without an argument is milliseconds since the epoch as a string of
-- digits; an unknown resolution raises "timestamp format must be MILLISECOND or
-- MICROSECOND.". (Envoy Lua filter docs, "timestampString()")
--@upstream-header: x-ts: 13|timestamp format must be MILLISECOND or MICROSECOND.
function envoy_on_request(request_handle)
  local ms = request_handle:timestampString()
  local _, err = pcall(request_handle.timestampString, request_handle, 7)
  request_handle:headers():add("x-ts", #ms:match("^%d+$") .. "|" .. err:match("timestamp format.*$"))
end
