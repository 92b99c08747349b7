-- Adds a header on the way in (the echo shows it) and one on the way out.
function envoy_on_request(h)
  h:headers():add("x-hello", config.greeting or "world")
end

function envoy_on_response(h)
  h:headers():replace("server", "luxy")
end
