-- Logs who talks to whom and the bytes each way of a plain TCP connection, and (with
-- config.shout) rewrites the backend's answers. Same-length rewrite: the HTTP
-- content-length inside the bytes stays right.

local function preview(data)
  local line = data:match("^[^\r\n]*") or ""
  if #line > config.preview then line = line:sub(1, config.preview) .. "..." end
  return line
end

function on_connect(conn)
  conn:logInfo("connect " .. conn:sourceAddress() .. " -> " .. conn:destinationAddress()
    .. " (" .. conn:direction() .. ", cluster " .. conn:cluster() .. ")")
end

function on_downstream_data(conn, data, end_of_stream)
  conn:logInfo(string.format("client -> %s  %d bytes%s  %q", conn:upstreamAddress(), #data,
    end_of_stream and " (end)" or "", preview(data)))
  -- nil: pass the bytes on unchanged
end

function on_upstream_data(conn, data, end_of_stream)
  conn:logInfo(string.format("%s -> client  %d bytes%s  %q", conn:upstreamAddress(), #data,
    end_of_stream and " (end)" or "", preview(data)))
  if config.shout then
    return (data:gsub("luxy", "LUXY"))
  end
end

function on_close(conn)
  conn:logInfo("closed " .. conn:sourceAddress())
end
