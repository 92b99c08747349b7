-- ip-block: answers 403 to clients in config.deny (IPv4 addresses or CIDR blocks), unless
-- they are in config.allow. The client is streamInfo():downstreamRemoteAddress(): the peer,
-- or what x-forwarded-for says under the listener's xff_num_trusted_hops.

local function parse(ip)
  local a, b, c, d = ip:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  return ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
end

local function blocks(list)
  local out = {}
  for _, text in ipairs(list or {}) do
    local ip, bits = text:match("^([%d%.]+)/(%d+)$")
    local address = parse(ip or text)
    assert(address, "ip-block: not an IPv4 address or CIDR: " .. text)
    bits = tonumber(bits or 32)
    local size = 1 << (32 - bits)
    out[#out + 1] = { first = address - address % size, size = size }
  end
  return out
end

local deny, allow = blocks(config.deny), blocks(config.allow)

local function listed(list, address)
  for _, block in ipairs(list) do
    if address >= block.first and address < block.first + block.size then return true end
  end
  return false
end

function on_request(h)
  local client = h:streamInfo():downstreamRemoteAddress():match("^([%d%.]+):%d+$")
  local address = client and parse(client)
  if address and listed(deny, address) and not listed(allow, address) then
    h:logInfo("ip-block: refused " .. client)
    h:respond({ [":status"] = "403" }, "forbidden\n")
  end
end
