-- Envoy: after respond() the request does not reach the upstream, and the responding
-- filter's own envoy_on_response does not run for the local reply (lua_filter.cc: a filter
-- that responded stops; only the encoder filters before it see the reply).
--@status: 200
--@response-body: local
--@response-header: x-from-respond: 1
--@response-header: x-own-response:
--@upstream-requests: 0
function envoy_on_request(request_handle)
  request_handle:respond({[":status"] = "200", ["x-from-respond"] = "1"}, "local")
end
function envoy_on_response(response_handle)
  response_handle:headers():add("x-own-response", "ran")
end
