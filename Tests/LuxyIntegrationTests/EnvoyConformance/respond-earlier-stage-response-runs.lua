-- Envoy: a local reply from respond() goes through the encoder filters of the filters before
-- the responding one: an earlier filter's envoy_on_response sees the reply. (Envoy Lua
-- filter docs, "respond()"; Envoy's local reply path, sendLocalReply)
--@outer: function envoy_on_response(h) h:headers():add("x-outer-saw", h:headers():get(":status")) end
--@status: 401
--@response-header: x-outer-saw: 401
--@upstream-requests: 0
function envoy_on_request(request_handle)
  request_handle:respond({[":status"] = "401"}, "no")
end
