-- protocol-sniffer (tcp): names the protocol a client speaks from its first bytes (TLS,
-- HTTP/1, HTTP/2, SSH, else unknown), logs it, and closes connections whose protocol is in
-- config.refuse. Holds the first bytes until it has enough to tell.
local refuse = {}
for _, name in ipairs(config.refuse or {}) do refuse[name] = true end

local function sniff(data)
  if #data >= 3 and data:byte(1) == 0x16 and data:byte(2) == 0x03 then return "tls" end
  if data:sub(1, 24) == "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" then return "http2" end
  if data:match("^%u+ [^ ]+ HTTP/1%.[01]\r\n") then return "http1" end
  if data:sub(1, 4) == "SSH-" then return "ssh" end
  if #data < 24 and not data:find("\n") then return nil end   -- not enough yet
  return "unknown"
end

-- Per connection, by client address (ip:port names one connection while it lives).
local protocols = {}

function on_downstream_data(conn, data, end_of_stream)
  local client = conn:sourceAddress()
  if protocols[client] then return nil end
  local protocol = sniff(data) or (end_of_stream and "unknown" or nil)
  if protocol == nil then return false end               -- hold: wait for more bytes
  protocols[client] = protocol
  conn:logInfo("protocol " .. protocol .. " from " .. conn:sourceAddress())
  if refuse[protocol] then conn:close() return "" end
  return nil
end

function on_close(conn)
  protocols[conn:sourceAddress()] = nil
end
