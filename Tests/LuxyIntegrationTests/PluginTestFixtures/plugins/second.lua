-- Fixture: the second stage; answers /stop itself, fails on /fail, calls side clusters on /call.
function on_request(h)
  local seen = h:streamInfo():dynamicMetadata():get("fixture")
  h:headers():add("x-second-saw", seen and seen.first or "nothing")
  h:headers():add("x-order", "second")
  local path = h:headers():get(":path")
  if path == "/stop" then h:respond({ [":status"] = "418" }, "teapot") end
  if path == "/fail" then error("second failed on purpose") end
  if path == "/call" then
    h:httpCall("audit", { [":method"] = "POST", [":path"] = "/log", [":authority"] = "audit" }, "hello", 0, true)
    local statuses = {}
    for _ = 1, 3 do
      local headers = h:httpCall("backend", { [":method"] = "GET", [":path"] = "/n", [":authority"] = "b" }, "", 50)
      statuses[#statuses + 1] = headers[":status"]
    end
    h:headers():add("x-statuses", table.concat(statuses, ","))
  end
end

function on_response(h)
  h:headers():add("x-order", "second")
end

-- The log phase; fails on /log-fails.
function on_log(h)
  if h:requestHeaders():get(":path") == "/log-fails" then error("second's log phase failed on purpose") end
  h:accessLog("fixture", "second")
end
