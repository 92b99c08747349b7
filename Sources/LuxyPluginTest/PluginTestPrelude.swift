/// The test library a `*_test.lua` file sees: busted-like `describe`/`it`/`before_each`/
/// `after_each`, `assert.*`, and `luxy_test` (load a plugin or a chain, run a request or a
/// connection through it). Written in Lua, run in the test file's own state (never in the
/// plugins' VM). Every call that needs the host yields the file's coroutine to the Swift
/// driver (`PluginTestFileRun`) with an operation name and its arguments; the driver resumes it
/// with `true, result` or `false, message`. So no Swift frame ever raises or yields in Lua.
enum PluginTestPrelude {
    static let chunkName = "=luxy_test"

    static let source = #"""
local file, dir = ...
local yield, running = coroutine.yield, coroutine.running
local main_co = running()
local lua_assert = assert

-- Host operations: only from the file's own coroutine (a test or the file's top level).
local function host(op, ...)
  if running() ~= main_co then
    error("luxy_test: call this from a test (or the file's top level), not from a coroutine of your own", 0)
  end
  local ok, result = yield(op, ...)
  if not ok then error(result, 0) end
  return result
end

---------------------------------------------------------------------------------------
-- Values shown in messages

local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  if depth > 2 then return "{…}" end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    local key = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or "[" .. show(k) .. "]"
    parts[#parts + 1] = key .. " = " .. show(v[k], depth + 1)
    if #parts > 12 then parts[#parts + 1] = "…"; break end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function deep_equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

---------------------------------------------------------------------------------------
-- Assertions: a failure is a table, so the runner tells it from a script error.

local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(f) return f.message end

local function fail(message, extra)
  if extra then message = message .. " (" .. tostring(extra) .. ")" end
  error(setmetatable({ message = message }, Failure), 0)
end

local checks = {}
function checks.equals(expected, actual, message)
  if not deep_equal(expected, actual) then
    fail("expected " .. show(expected) .. ", got " .. show(actual), message)
  end
end
checks.same = checks.equals
checks.equal = checks.equals
function checks.not_equals(unexpected, actual, message)
  if deep_equal(unexpected, actual) then fail("expected anything but " .. show(unexpected), message) end
end
function checks.is_true(v, message) if v ~= true then fail("expected true, got " .. show(v), message) end end
function checks.is_false(v, message) if v ~= false then fail("expected false, got " .. show(v), message) end end
function checks.is_nil(v, message) if v ~= nil then fail("expected nil, got " .. show(v), message) end end
function checks.not_nil(v, message) if v == nil then fail("expected a value, got nil", message) end end
checks.is_not_nil = checks.not_nil
function checks.truthy(v, message) if not v then fail("expected a true value, got " .. show(v), message) end end
function checks.falsy(v, message) if v then fail("expected a false value, got " .. show(v), message) end end
function checks.matches(pattern, s, message)
  if type(s) ~= "string" or not s:find(pattern) then
    fail("expected " .. show(s) .. " to match " .. show(pattern), message)
  end
end
function checks.has_error(fn, pattern, message)
  local ok, err = pcall(fn)
  if ok then fail("expected an error, the function returned", message) end
  if pattern ~= nil then
    local text = type(err) == "table" and tostring(err.message or err) or tostring(err)
    if not text:find(pattern) then
      fail("expected an error matching " .. show(pattern) .. ", got " .. show(text), message)
    end
  end
end
function checks.logged(result, pattern, message)
  if not result:logged(pattern) then
    local lines = {}
    for _, entry in ipairs(result.logs or {}) do lines[#lines + 1] = entry.level .. ": " .. entry.message end
    fail("expected a log line matching " .. show(pattern) .. ", got " .. show(lines), message)
  end
end

assert = setmetatable({}, {
  __index = checks,
  __call = function(_, ...) return lua_assert(...) end,
})

---------------------------------------------------------------------------------------
-- describe / it

local tests = {}
local blocks = { { name = nil, before = {}, after = {} } }

function describe(name, fn)
  lua_assert(type(name) == "string" and type(fn) == "function", "describe(name, function)")
  blocks[#blocks + 1] = { name = name, before = {}, after = {} }
  fn()
  blocks[#blocks] = nil
end

local function current_chain()
  local chain = {}
  for i = 1, #blocks do chain[i] = blocks[i] end
  return chain
end

function it(name, fn)
  lua_assert(type(name) == "string" and type(fn) == "function", "it(name, function)")
  local names = {}
  for i = 2, #blocks do names[#names + 1] = blocks[i].name end
  names[#names + 1] = name
  local info = debug.getinfo(2, "l")
  tests[#tests + 1] = { name = table.concat(names, " "), fn = fn, blocks = current_chain(),
                        line = info and info.currentline or 0 }
end

function before_each(fn) local b = blocks[#blocks]; b.before[#b.before + 1] = fn end
function after_each(fn) local b = blocks[#blocks]; b.after[#b.after + 1] = fn end

---------------------------------------------------------------------------------------
-- Results: header lists become case-insensitive tables of joined values.

local function header_view(list)
  if list == nil then return nil end
  local view, all = {}, {}
  for _, pair in ipairs(list) do
    local name = pair[1]
    if view[name] == nil then view[name] = pair[2] else view[name] = view[name] .. "," .. pair[2] end
    all[#all + 1] = { name = name, value = pair[2] }
  end
  return setmetatable(view, {
    __index = function(t, k)
      if k == "list" then return all end
      if type(k) == "string" and k ~= k:lower() then return rawget(t, k:lower()) end
    end,
  })
end

local function wrap_message(m)
  if m == nil then return nil end
  m.headers = header_view(m.headers)
  m.trailers = header_view(m.trailers)
  return m
end

local function logged(self, pattern, level)
  for _, entry in ipairs(self.logs or {}) do
    if (level == nil or entry.level == level) and entry.message:find(pattern) then return true end
  end
  return false
end

local function wrap_result(r)
  wrap_message(r.upstream)
  wrap_message(r.reply)
  wrap_message(r.response)
  for _, call in ipairs(r.calls or {}) do call.headers = header_view(call.headers) end
  r.logged = logged
  return r
end

---------------------------------------------------------------------------------------
-- Requests: what the test writes → the flat shape the host reads.

local function header_list(headers, what)
  local list = {}
  if headers == nil then return list end
  if type(headers) ~= "table" then error(what .. " must be a table", 0) end
  for k, v in pairs(headers) do
    if type(k) == "number" then
      if type(v) ~= "table" or v[1] == nil or v[2] == nil then error(what .. ": list entries are {name, value}", 0) end
      list[#list + 1] = { tostring(v[1]):lower(), tostring(v[2]) }
    elseif type(v) == "table" then
      for _, item in ipairs(v) do list[#list + 1] = { tostring(k):lower(), tostring(item) } end
    else
      list[#list + 1] = { tostring(k):lower(), tostring(v) }
    end
  end
  table.sort(list, function(a, b) return a[1] < b[1] end)
  return list
end

local function answer(spec, what)
  if type(spec) ~= "table" then error(what .. " must be a table: {status, headers, body}, luxy_test.timeout() or luxy_test.failure()", 0) end
  if spec.timeout or spec.failure then return spec end
  return { status = tonumber(spec.status or 200), headers = header_list(spec.headers, what .. ".headers"),
           body = spec.body and tostring(spec.body) or "" }
end

local function calls(spec)
  local out = {}
  for cluster, a in pairs(spec or {}) do
    local what = "calls[" .. show(cluster) .. "]"
    if type(a) == "table" and a[1] ~= nil then
      -- A list: one answer per call, in order, the last one repeating.
      local list = {}
      for i, item in ipairs(a) do list[i] = answer(item, what .. "[" .. i .. "]") end
      out[cluster] = list
    else
      out[cluster] = answer(a, what)
    end
  end
  return out
end

local function message_body(body, what)
  if body == nil or type(body) == "string" then return body, nil end
  if type(body) == "table" then
    for i, chunk in ipairs(body) do
      if type(chunk) ~= "string" then error(what .. "[" .. i .. "] must be a string", 0) end
    end
    return table.concat(body), body
  end
  error(what .. " must be a string or a list of strings", 0)
end

local function http_request(req)
  req = req or {}
  if type(req) ~= "table" then error("request must be a table", 0) end
  local body, chunks = message_body(req.body, "body")
  -- What the test leaves out takes TestHTTPRequest's defaults (GET / on example.com, …).
  local flat = {
    method = req.method, path = req.path, authority = req.authority or req.host,
    scheme = req.scheme, protocol = req.protocol,
    headers = header_list(req.headers, "headers"), body = body, body_chunks = chunks,
    trailers = req.trailers and header_list(req.trailers, "trailers") or nil,
    source = req.source, destination = req.destination,
    direction = req.direction, route = req.route, service = req.service, cluster = req.cluster,
    upstream = req.upstream, metadata = req.metadata, filter_context = req.filter_context,
    tls = req.tls, calls = calls(req.calls),
  }
  if req.response ~= nil then
    local r = req.response
    if type(r) ~= "table" then error("response must be a table", 0) end
    if r.timeout or r.failure then
      -- The upstream fails: the proxy answers itself (504 / 503) with the flag UT / UF.
      flat.response = r
      return flat
    end
    local rbody, rchunks = message_body(r.body, "response.body")
    flat.response = { status = tonumber(r.status or 200), headers = header_list(r.headers, "response.headers"),
                      body = rbody, body_chunks = rchunks,
                      trailers = r.trailers and header_list(r.trailers, "response.trailers") or nil }
  end
  return flat
end

---------------------------------------------------------------------------------------
-- luxy_test

local Target = {}
Target.__index = Target

function Target:request(req)
  return wrap_result(host("http", self.id, http_request(req)))
end

local Connection = {}
Connection.__index = Connection

local function absorb(conn, r)
  for k, v in pairs(r) do conn[k] = v end
  return r.forwarded
end

function Connection:from_client(data, end_of_stream)
  return absorb(self, host("tcp_data", self.id, "downstream", tostring(data or ""), end_of_stream == true))
end
function Connection:from_server(data, end_of_stream)
  return absorb(self, host("tcp_data", self.id, "upstream", tostring(data or ""), end_of_stream == true))
end
function Connection:close()
  absorb(self, host("tcp_close", self.id))
end
Connection.logged = logged

function Target:connect(opts)
  opts = opts or {}
  -- What the test leaves out takes TestTCPConnection's defaults.
  local flat = {
    source = opts.source, destination = opts.destination, upstream = opts.upstream,
    direction = opts.direction, cluster = opts.cluster, identity = opts.identity, calls = calls(opts.calls),
  }
  local conn = setmetatable({}, Connection)
  absorb(conn, host("tcp_connect", self.id, flat))
  return conn
end

local function resolve(path)
  if path:sub(1, 1) == "/" then return path end
  return dir .. "/" .. path
end

luxy_test = {}

function luxy_test.load(name, options)
  if type(name) ~= "string" then error("luxy_test.load(name[, options]): name must be a string", 0) end
  options = options or {}
  local path = name
  if not name:find("/") and not name:find("%.lua$") then path = name .. ".lua" end
  local id = host("load", resolve(path), options.config or {}, options.name or name:match("([^/]+)%.lua$") or name,
                  options.fail_open == true)
  return setmetatable({ id = id, name = name }, Target)
end

function luxy_test.chain(config_file, chain)
  if type(config_file) ~= "string" or type(chain) ~= "string" then
    error("luxy_test.chain(config_file, chain_name)", 0)
  end
  local id = host("chain", resolve(config_file), chain)
  return setmetatable({ id = id, name = chain }, Target)
end

-- What the plugins left in the luxy library's shared state (this file's, as a process's).
function luxy_test.metric(name, labels)
  if type(name) ~= "string" then error("luxy_test.metric(name[, labels]): name must be a string", 0) end
  if labels ~= nil and type(labels) ~= "table" then error("luxy_test.metric: labels must be a table {label = value}", 0) end
  local flat = {}
  for k, v in pairs(labels or {}) do
    if type(k) ~= "string" then error("luxy_test.metric: labels are {label = value}", 0) end
    flat[k] = tostring(v)
  end
  return host("metric", name, flat)
end

function luxy_test.shared(dict, key)
  if type(dict) ~= "string" or type(key) ~= "string" then error("luxy_test.shared(dict, key)", 0) end
  return host("shared", dict, key)
end

-- Moves the file's virtual clock on: the timers that come due run (each to its end), their
-- luxy.httpCall calls answered from options.calls.
function luxy_test.advance(seconds, options)
  if type(seconds) ~= "number" or seconds < 0 then error("luxy_test.advance(seconds[, {calls = …}])", 0) end
  options = options or {}
  if type(options) ~= "table" then error("luxy_test.advance: options must be a table", 0) end
  local r = host("advance", seconds, calls(options.calls))
  for _, call in ipairs(r.calls or {}) do call.headers = header_view(call.headers) end
  r.logged = logged
  return r
end

function luxy_test.timeout() return { timeout = true } end
function luxy_test.failure(reason) return { failure = reason or "connection refused" } end

---------------------------------------------------------------------------------------
-- Running

local source = "@" .. file
local function locate(err)
  local line
  for level = 2, 64 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source == source and info.currentline and info.currentline > 0 then line = info.currentline; break end
  end
  local message
  if getmetatable(err) == Failure then
    message = err.message
  else
    message = tostring(err)
    if type(err) == "table" and err.message then message = tostring(err.message) end
    -- "file:12: text" → the line, once.
    local at, rest = message:match("^[^:]*:(%d+): (.*)$")
    if at and message:sub(1, #file) == file then line = line or tonumber(at); message = rest end
  end
  return { message = message, line = line }
end

-- Test code has no instruction budget of its own (plugins do): a test that spins is stopped
-- after this much CPU time instead of hanging the run.
local cpu_limit = 10
local deadline = os.clock() + cpu_limit
debug.sethook(main_co, function()
  if os.clock() > deadline then
    deadline = math.huge
    error("the test ran for more than " .. cpu_limit .. " s of CPU time (an endless loop?)", 2)
  end
end, "", 1000000)

local function run_test(test)
  deadline = os.clock() + cpu_limit
  local function body()
    for _, block in ipairs(test.blocks) do for _, fn in ipairs(block.before) do fn() end end
    test.fn()
  end
  local ok, err = xpcall(body, locate)
  for i = #test.blocks, 1, -1 do
    for _, fn in ipairs(test.blocks[i].after) do
      local ok2, err2 = xpcall(fn, locate)
      if ok and not ok2 then ok, err = false, err2 end
    end
  end
  return ok, err
end

return function(chunk)
  local ok, err = xpcall(chunk, locate)
  if not ok then
    yield("report", { name = "(loading the file)", ok = false, message = err.message, line = err.line or 0 })
    return
  end
  for _, test in ipairs(tests) do
    local passed, failure = run_test(test)
    yield("report", { name = test.name, ok = passed, message = failure and failure.message,
                      line = failure and failure.line or test.line })
  end
end
"""#
}
