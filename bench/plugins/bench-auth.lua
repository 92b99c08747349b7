-- Bench workload (b): "authorization: Bearer <token>" must match the token from config, else 403.
local expected = "Bearer " .. assert(config.token, "token required")

function on_request(h)
  if h:headers():get("authorization") ~= expected then
    h:respond({[":status"] = "403"}, "forbidden\n")
  end
end
