-- For logging-http_test.lua and metrics-http_test.lua: answers /deny with 403 itself, fails
-- on /fail, lets anything else through.
function on_request(h)
  local path = h:headers():get(":path")
  if path == "/deny" then h:respond({ [":status"] = "403" }, "denied\n") end
  if path == "/fail" then error("gate failed on purpose") end
end
