-- For access-log_test.lua: answers every request with 403.
function on_request(h)
  h:respond({ [":status"] = "403" }, "denied\n")
end
