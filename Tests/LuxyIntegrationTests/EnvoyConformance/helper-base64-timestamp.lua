-- Envoy: base64Escape() is standard base64; timestamp() is milliseconds since the epoch;
-- timestampString(MICROSECOND) has microseconds; an unknown resolution raises "timestamp
-- format must be MILLISECOND.". (Envoy Lua filter docs, "base64Escape()", "timestamp()",
-- "timestampString()")
--@upstream-header: x-b64: aGVsbG8gd29ybGQ=
--@upstream-header: x-ts: true|true|timestamp format must be MILLISECOND.
function envoy_on_request(request_handle)
  request_handle:headers():add("x-b64", request_handle:base64Escape("hello world"))
  local ms = request_handle:timestamp()
  local us = request_handle:timestampString(EnvoyTimestampResolution.MICROSECOND)
  local _, err = pcall(request_handle.timestamp, request_handle, EnvoyTimestampResolution.MICROSECOND)
  request_handle:headers():add("x-ts", tostring(ms > 1600000000000) .. "|" .. tostring(#us == 16)
    .. "|" .. err:match("timestamp format.*$"))
end
