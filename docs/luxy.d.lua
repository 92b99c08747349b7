---@meta
-- Editor annotations (EmmyLua / LuaLS) for Luxy plugins: the handle API of docs/lua-api.md,
-- the tcp `conn`, the modules `require` gives, and the `luxy` global. Point your editor at
-- this file (examples/.luarc.json does for the examples); it is never loaded by Luxy.

-- MARK: - The script's environment

---The stage's `config:` from luxy.yaml (maps are tables with string keys, lists sequences).
---@type table
config = {}

---Timestamp resolutions for `handle:timestamp` and `handle:timestampString` (Envoy's).
EnvoyTimestampResolution = {
  ---@type integer
  MILLISECOND = 0,
  ---@type integer
  MICROSECOND = 1,
}

---A shared library of the lib folder (`require("a.b")` loads `lib/a/b.lua`) or a built-in
---module: `cjson`, `cjson.safe`, `luxy.base64`, `luxy.url`, `luxy.crypto`.
---@param name string
---@return any
function require(name) end

-- MARK: - HTTP handle

---The object an HTTP phase function gets: `on_request(handle)`, `on_response(handle)`
---(or Envoy's `envoy_on_request` / `envoy_on_response`), and `on_log(handle)`. Valid for its phase only.
---@class luxy.handle
local handle = {}

---The phase's header map (request headers in `on_request`, response headers in `on_response`).
---@return luxy.headers
function handle:headers() end

---Buffers the whole body (up to `limits.max_buffered_body_bytes`, else 413) and returns it;
---nil when there is no body, unless `always_wrap` asks for an empty buffer.
---@param always_wrap? boolean
---@return luxy.buffer?
function handle:body(always_wrap) end

---An iterator over the body's chunks as they arrive; each chunk is a buffer valid for its step.
---@return fun(): luxy.buffer?
function handle:bodyChunks() end

---The trailers (waits for the end of the message), or nil when there are none.
---@return luxy.headers?
function handle:trailers() end

---The route's `metadata:` from YAML.
---@return luxy.metadata
function handle:metadata() end

---The route's `per_stage: {THIS_STAGE: {config: …}}`, or an empty table.
---@return table
function handle:filterContext() end

---@return luxy.streamInfo
function handle:streamInfo() end

---The request's headers from any phase: in the response and log phases the request as it went
---upstream, read-only (`get`, `getNumValues`, `getAtIndex`).
---@return luxy.headers
function handle:requestHeaders() end

---Appends `line` and a newline to the access log `destination` ("stdout" or a file path), apart
---from the operational log; never blocks the loop. A `luxy.log_format` format is rendered for
---this request straight into the log.
---@param destination string
---@param line string|luxy.log_format
function handle:accessLog(destination, line) end

---This stage's later phase does not run for this request (from the request phase: "response"
---or "log"; from the response phase: "log"). Any other name raises.
---@param phase "response"|"log"
function handle:skipPhase(phase) end

---@return luxy.connection
function handle:connection() end

---Options of `httpCall` given as a table.
---@class luxy.httpCallOptions
---@field timeout_ms? integer 0 or absent: no timeout of the call's own
---@field asynchronous? boolean return at once, without the answer
---@field return_duplicate_headers? boolean repeated response headers as lists
---@field trace_sampled? boolean accepted and ignored
---@field send_xff? boolean accepted and ignored

---Calls a cluster. `headers` must have `:method`, `:path` and `:authority`. Returns the
---response headers (with `:status`) and body (nil when empty); a transport failure is a 503
---(504 on timeout) response, not an error.
---@param cluster string
---@param headers table<string, string|string[]>
---@param body? string
---@param timeout_ms_or_options integer|luxy.httpCallOptions
---@param asynchronous? boolean
---@return table<string, string|string[]> headers
---@return string? body
function handle:httpCall(cluster, headers, body, timeout_ms_or_options, asynchronous) end

---Answers the request itself (`headers[":status"]` 200–599); the upstream is not called.
---@param headers table<string, string|string[]>
---@param body? string
function handle:respond(headers, body) end

---@param message string
function handle:logTrace(message) end
---@param message string
function handle:logDebug(message) end
---@param message string
function handle:logInfo(message) end
---@param message string
function handle:logWarn(message) end
---@param message string
function handle:logErr(message) end
---@param message string
function handle:logCritical(message) end

---The route (and cluster, service) is chosen again before the request goes upstream.
function handle:clearRouteCache() end

---Standard base64 with padding.
---@param data string
---@return string
function handle:base64Escape(data) end

---Milliseconds since the epoch.
---@param resolution? integer EnvoyTimestampResolution.MILLISECOND
---@return integer
function handle:timestamp(resolution) end

---Milliseconds (or microseconds) since the epoch as a string.
---@param resolution? integer EnvoyTimestampResolution.MILLISECOND or MICROSECOND
---@return string
function handle:timestampString(resolution) end

---Reads a DER SubjectPublicKeyInfo (RSA, or ECDSA on P-256/384/521); nil when it is none.
---@param keyder string
---@param keyderLength integer
---@return luxy.publicKey?
function handle:importPublicKey(keyder, keyderLength) end

---`true, nil` when `signature` signs `data`, else `false, message`.
---@param hashFunction "sha1"|"sha256"|"sha384"|"sha512"|string
---@param pubkey string|luxy.publicKey what `key:get()` returned, or the key object
---@param signature string raw PKCS#1 v1.5 for RSA, DER for ECDSA
---@param signatureLength integer
---@param data string
---@param dataLength integer
---@return boolean ok
---@return string? error
function handle:verifySignature(hashFunction, pubkey, signature, signatureLength, data, dataLength) end

---Luxy's: the stage's config table (as the global `config`).
---@return table
function handle:config() end
---Luxy's: the matched route's name.
---@return string
function handle:route() end
---Luxy's: the route's destination service, or nil.
---@return string?
function handle:service() end
---Luxy's: the cluster the route picked.
---@return string?
function handle:cluster() end
---Luxy's: `host:port` of the chosen endpoint (known in the response phase).
---@return string?
function handle:upstream() end
---Luxy's: the listener's direction.
---@return "inbound"|"outbound"
function handle:direction() end
---Luxy's: whether the downstream speaks HTTP/2.
---@return boolean
function handle:isHTTP2() end

---@class luxy.publicKey
local publicKey = {}
---The key as `verifySignature` takes it (its DER bytes).
---@return string
function publicKey:get() end

-- MARK: - Headers, buffers, metadata

---A header map; `pairs(headers)` gives one pair per value.
---@class luxy.headers
local headers = {}
---Repeated values joined with `,`; nil when absent.
---@param name string
---@return string?
function headers:get(name) end
---@param name string
---@return integer
function headers:getNumValues(name) end
---@param name string
---@param index integer 0-based
---@return string?
function headers:getAtIndex(name, index) end
---@param name string
---@param value string
function headers:add(name, value) end
---@param name string
---@param value string
function headers:replace(name, value) end
---@param name string
function headers:remove(name) end
---The HTTP/1.1 reason phrase of a response's status line.
---@param phrase string
function headers:setHttp1ReasonPhrase(phrase) end

---A body (or one chunk of it).
---@class luxy.buffer
local buffer = {}
---@return integer
function buffer:length() end
---@param start integer 0-based
---@param length integer
---@return string
function buffer:getBytes(start, length) end
---Replaces the whole body (or chunk).
---@param data string
function buffer:setBytes(data) end

---The route's metadata; `pairs` works.
---@class luxy.metadata
local metadata = {}
---@param key string
---@return any
function metadata:get(key) end

-- MARK: - Stream info, dynamic metadata, connection, ssl

---@class luxy.streamInfo
local streamInfo = {}
---@return "HTTP/1.0"|"HTTP/1.1"|"HTTP/2"
function streamInfo:protocol() end
---@return string
function streamInfo:downstreamLocalAddress() end
---@return string
function streamInfo:downstreamDirectLocalAddress() end
---@return string
function streamInfo:downstreamDirectRemoteAddress() end
---The client (after `xff_num_trusted_hops`).
---@return string
function streamInfo:downstreamRemoteAddress() end
---The SNI, `""` without one.
---@return string
function streamInfo:requestedServerName() end
---@return string
function streamInfo:routeName() end
---Always `""`.
---@return string
function streamInfo:virtualClusterName() end
---Upstream attempts made (retries included).
---@return integer
function streamInfo:attemptCount() end
---The status sent to the client; 0 when none was.
---@return integer
function streamInfo:responseCode() end
---Why the request ended as it did (Envoy's %RESPONSE_FLAGS%): "UF,URX", "-" for none.
---@return string
function streamInfo:responseFlags() end
---Adds a response flag by its short code, e.g. "RL".
---@param code string
function streamInfo:setResponseFlag(code) end
---Body bytes read from the client.
---@return integer
function streamInfo:bytesReceived() end
---Body bytes written to the client.
---@return integer
function streamInfo:bytesSent() end
---Milliseconds from the request head to the end of the exchange (until now before it).
---@return number
function streamInfo:duration() end
---When the request head came, in milliseconds since the epoch.
---@return number
function streamInfo:startTime() end
---@return luxy.ssl?
function streamInfo:downstreamSslConnection() end
---@return luxy.dynamicMetadata
function streamInfo:dynamicMetadata() end

---Shared by a request's stages and both its phases; `pairs` works.
---@class luxy.dynamicMetadata
local dynamicMetadata = {}
---A copy of the filter's table, or nil.
---@param filter string
---@return table?
function dynamicMetadata:get(filter) end
---Stores a copy of `value` (nil, boolean, number, string, list or map).
---@param filter string
---@param key string
---@param value any
function dynamicMetadata:set(filter, key, value) end

---@class luxy.connection
local connection = {}
---nil on a plain connection.
---@return luxy.ssl?
function connection:ssl() end

---@class luxy.ssl
local ssl = {}
---@return boolean
function ssl:peerCertificatePresented() end
---@return boolean
function ssl:peerCertificateValidated() end
---@return string[]
function ssl:uriSanPeerCertificate() end
---@return string[]
function ssl:dnsSansPeerCertificate() end
---RFC 2253, `""` without a certificate.
---@return string
function ssl:subjectPeerCertificate() end
---Lower-case hex, `""` without a certificate.
---@return string
function ssl:sha256PeerCertificateDigest() end
---@return "TLSv1.2"|"TLSv1.3"
function ssl:tlsVersion() end
---@return string
function ssl:sni() end
---@return string
function ssl:alpn() end

-- MARK: - TCP chains

---The connection a tcp phase function gets: `on_connect(conn)`,
---`on_downstream_data(conn, data, end_of_stream)`, `on_upstream_data(conn, data, end_of_stream)`,
---`on_close(conn)`. Valid for the whole connection.
---@class luxy.tcpConnection
local conn = {}
---@return string
function conn:sourceAddress() end
---@return string
function conn:destinationAddress() end
---nil in `on_connect`.
---@return string?
function conn:upstreamAddress() end
---The verified client certificate's identity, or nil.
---@return string?
function conn:peerIdentity() end
---@return string
function conn:cluster() end
---@return "inbound"|"outbound"
function conn:direction() end
---@return table
function conn:config() end
---Closes both sides when this phase returns.
function conn:close() end
---As `handle:httpCall`.
---@param cluster string
---@param headers table<string, string|string[]>
---@param body? string
---@param timeout_ms_or_options integer|luxy.httpCallOptions
---@param asynchronous? boolean
---@return table<string, string|string[]> headers
---@return string? body
function conn:httpCall(cluster, headers, body, timeout_ms_or_options, asynchronous) end
---@param message string
function conn:logTrace(message) end
---@param message string
function conn:logDebug(message) end
---@param message string
function conn:logInfo(message) end
---@param message string
function conn:logWarn(message) end
---@param message string
function conn:logErr(message) end
---@param message string
function conn:logCritical(message) end

-- MARK: - Built-in modules (require)

---`require("cjson")` (raises) and `require("cjson.safe")` (returns nil, message).
---@class cjson
---@field null lightuserdata JSON null
local cjson = {}
---@param value any
---@return string? text
---@return string? error only from cjson.safe
function cjson.encode(value) end
---@param text string
---@return any value
---@return string? error only from cjson.safe
function cjson.decode(text) end

---`require("luxy.base64")`.
---@class luxy.base64
local base64 = {}
---@param data string
---@return string
function base64.encode(data) end
---URL-safe alphabet, no padding.
---@param data string
---@return string
function base64.encode_url(data) end
---Either alphabet, padded or not.
---@param text string
---@return string? data
---@return string? error
function base64.decode(text) end
---@param text string
---@return string? data
---@return string? error
function base64.decode_url(text) end

---`require("luxy.url")`.
---@class luxy.url
local url = {}
---@param component string
---@return string
function url.escape(component) end
---@param text string
---@return string
function url.unescape(text) end
---@param query string
---@return table<string, string|boolean|(string|boolean)[]>
function url.parse_query(query) end
---@param args table<string, string|number|boolean|(string|number|boolean)[]>
---@return string
function url.build_query(args) end

---`require("luxy.crypto")`.
---@class luxy.crypto
local crypto = {}
---@param data string
---@return string digest 32 raw bytes
function crypto.sha256(data) end
---@param data string
---@return string
function crypto.sha256_hex(data) end
---@param key string
---@param data string
---@return string mac 32 raw bytes
function crypto.hmac_sha256(key, data) end
---@param key string
---@param data string
---@return string
function crypto.hmac_sha256_hex(key, data) end
---Constant-time check of a MAC.
---@param key string
---@param data string
---@param mac string
---@return boolean
function crypto.hmac_sha256_verify(key, data, mac) end
---@param n integer 0 to 1024
---@return string
function crypto.random_bytes(n) end
---A JWK (RSA `{kty, n, e}` or EC `{kty, crv, x, y}`) as DER SubjectPublicKeyInfo.
---@param jwk table
---@return string? der
---@return string? error
function crypto.jwk_to_der(jwk) end
---A JWS ECDSA signature (`r ‖ s`) as DER.
---@param raw string
---@return string? der
---@return string? error
function crypto.ecdsa_signature_to_der(raw) end

-- MARK: - The luxy global (shared dictionaries, timers, metrics, queues)

---Luxy's platform library, shared by every script of a VM and read-only.
---@class luxy
luxy = {}

---A dictionary shared by every loop's VM, kept across reloads (OpenResty's ngx.shared.DICT).
---@class luxy.shared_dict
local dict = {}
---@param key string
---@return any
function dict:get(key) end
---@param key string
---@param value any
---@param ttl? number seconds
---@return boolean ok
---@return string? error
---@return boolean? forcible
function dict:set(key, value, ttl) end
---Stores only when the key is absent (`false, "exists"` otherwise).
---@param key string
---@param value any
---@param ttl? number
---@return boolean ok
---@return string? error
---@return boolean? forcible
function dict:add(key, value, ttl) end
---@param key string
---@param delta number
---@param init? number
---@param ttl? number
---@return number? value
---@return string? error
---@return boolean? forcible
function dict:incr(key, delta, init, ttl) end
---Compare and set.
---@param key string
---@param old any
---@param new any
---@param ttl? number
---@return boolean? ok
---@return any current_or_error
---@return boolean? forcible
function dict:cas(key, old, new, ttl) end
---@param key string
function dict:delete(key) end
---@param limit? integer default 1024
---@return string[]
function dict:keys(limit) end

---@param name string a `shared_dicts:` entry of luxy.yaml
---@return luxy.shared_dict
function luxy.shared(name) end

---@class luxy.queue
local queue = {}
---@param value any
---@return boolean ok
---@return string? error
function queue:enqueue(value) end
---@return any
function queue:dequeue() end
---@param callback fun(value: any)
function queue:consume(callback) end
---@return integer
function queue:length() end

---@param name string
---@return luxy.queue
function luxy.queue(name) end

---@class luxy.timer
local timer = {}
function timer:cancel() end

luxy.timer = {}
---Runs `callback` every `seconds` on the VM's loop while its generation is current.
---@param seconds number
---@param callback fun()
---@param options? {stop_on_error: boolean}
---@return luxy.timer
function luxy.timer.every(seconds, callback, options) end
---@param seconds number
---@param callback fun()
---@return luxy.timer
function luxy.timer.after(seconds, callback) end

---@class luxy.counter
local counter = {}
---@param value? number
---@param ... string label values
function counter:inc(value, ...) end

---@class luxy.gauge
local gauge = {}
---@param value number
---@param ... string label values
function gauge:set(value, ...) end
---@param value number
---@param ... string label values
function gauge:inc(value, ...) end

---@class luxy.histogram
local histogram = {}
---@param value number
---@param ... string label values
function histogram:observe(value, ...) end

luxy.metrics = {}
---@param name string
---@param help string
---@param label_names? string[]
---@return luxy.counter
function luxy.metrics.counter(name, help, label_names) end
---@param name string
---@param help string
---@param label_names? string[]
---@return luxy.gauge
function luxy.metrics.gauge(name, help, label_names) end
---@param name string
---@param help string
---@param label_names? string[]
---@param buckets? number[]
---@return luxy.histogram
function luxy.metrics.histogram(name, help, label_names, buckets) end

---For timer and queue callbacks, where there is no handle: as `handle:httpCall`.
---@param cluster string
---@param headers table<string, string|string[]>
---@param body? string
---@param timeout_ms_or_options integer|luxy.httpCallOptions
---@return table<string, string|string[]> headers
---@return string? body
function luxy.httpCall(cluster, headers, body, timeout_ms_or_options) end

---@param level "trace"|"debug"|"info"|"warn"|"err"|"critical"
---@param message string
function luxy.log(level, message) end

---An access-log format (Envoy's `%OPERATOR%`s), compiled once: a text format string, or JSON
---fields as a list of `{key, format}` pairs or a map of key to format.
---@param format string|string[][]|table<string, string>
---@return luxy.log_format
function luxy.log_format(format) end

---@class luxy.log_format
local log_format = {}

---The line of the request `h` belongs to, meant for `on_log`.
---@param h luxy.handle
---@return string
function log_format:render(h) end
