-- jwt-auth: verifies a JSON Web Token (RFC 7519) on every request and answers 401 with a
-- `www-authenticate: Bearer` challenge when it is missing or not valid. HS256 (a shared
-- secret), RS256 and ES256 (public keys from a JWKS a cluster serves, cached per VM).
-- Verified claims can be copied into request headers for the service behind.
--
-- config (see docs/jwt-auth.md):
--   header:             where the token is (default "authorization", as "Bearer <token>")
--   algorithms:         accepted `alg` values (default: RS256, ES256, and HS256 when
--                       hs256_secret is set); "none" is never accepted
--   hs256_secret:       the HS256 key (write it as !secret)
--   jwks_cluster:       the cluster that serves the JWKS (RS256/ES256)
--   jwks_path:          its path (default "/.well-known/jwks.json")
--   jwks_authority:     :authority of the JWKS request (default the cluster's name)
--   jwks_cache_seconds: how long fetched keys are used (default 300)
--   jwks_timeout_ms:    the fetch's timeout (default 1000)
--   issuer:             the `iss` a token must have (optional)
--   audiences:          `aud` must name one of these (optional)
--   clock_skew_seconds: leeway for exp and nbf (default 60)
--   claims_to_headers:  {claim = header}: copies verified claims into request headers (the
--                       client's own values of those headers are always removed)
--   forward_token:      false removes the token's header before the request goes upstream

-- Types and ranges only: the defaults above depend on one another (algorithms on the secret),
-- so the script keeps them.
schema = {
  type = "object",
  properties = {
    header = { type = "string", minLength = 1 },
    algorithms = { type = "array", minItems = 1, items = { type = "string", enum = { "HS256", "RS256", "ES256", "none" } } },
    hs256_secret = { type = "string", minLength = 1 },
    jwks_cluster = { type = "string", minLength = 1 },
    jwks_path = { type = "string", minLength = 1 },
    jwks_authority = { type = "string", minLength = 1 },
    jwks_cache_seconds = { type = "number", minimum = 0 },
    jwks_timeout_ms = { type = "integer", minimum = 1 },
    issuer = { type = "string" },
    audiences = { type = "array", items = { type = "string" } },
    clock_skew_seconds = { type = "number", minimum = 0 },
    claims_to_headers = { type = "object", additionalProperties = true },
    forward_token = { type = "boolean" },
  },
}

local cjson = require("cjson.safe")
local base64 = require("luxy.base64")
local crypto = require("luxy.crypto")

local cfg = config or {}
local header = string.lower(cfg.header or "authorization")
local secret = cfg.hs256_secret
local skew = tonumber(cfg.clock_skew_seconds) or 60
local cache_seconds = tonumber(cfg.jwks_cache_seconds) or 300
local jwks_path = cfg.jwks_path or "/.well-known/jwks.json"
local jwks_timeout = tonumber(cfg.jwks_timeout_ms) or 1000
local claims_to_headers = cfg.claims_to_headers or {}
local forward_token = cfg.forward_token ~= false

local allowed = {}
for _, alg in ipairs(cfg.algorithms or (secret and {"RS256", "ES256", "HS256"} or {"RS256", "ES256"})) do
  if alg ~= "none" then allowed[alg] = true end
end
if allowed.HS256 and not secret then error("jwt-auth: HS256 is accepted but config.hs256_secret is not set") end
if (allowed.RS256 or allowed.ES256) and not cfg.jwks_cluster then
  error("jwt-auth: RS256/ES256 need config.jwks_cluster (or set algorithms: [HS256])")
end

local audiences = {}
for _, aud in ipairs(cfg.audiences or {}) do audiences[aud] = true end

-- The keys of the JWKS, per VM (one per event loop): {keys = {...}, expires = time}.
local jwks = {keys = nil, expires = 0}

local function unauthorized(h, description)
  local challenge = 'Bearer realm="luxy"'
  if description then
    challenge = challenge .. ', error="invalid_token", error_description="' .. description .. '"'
  end
  h:respond({[":status"] = "401", ["www-authenticate"] = challenge, ["content-type"] = "text/plain"},
            "unauthorized: " .. (description or "no token") .. "\n")
end

local function fetch_keys(h)
  local headers, body = h:httpCall(cfg.jwks_cluster, {
    [":method"] = "GET", [":path"] = jwks_path, [":authority"] = cfg.jwks_authority or cfg.jwks_cluster,
    ["accept"] = "application/json",
  }, "", jwks_timeout)
  if headers[":status"] ~= "200" then
    return nil, "the key set could not be fetched (status " .. tostring(headers[":status"]) .. ")"
  end
  local document = cjson.decode(body or "")
  if type(document) ~= "table" or type(document.keys) ~= "table" then return nil, "the key set is not a JWKS" end
  local keys = {}
  for _, jwk in ipairs(document.keys) do
    if type(jwk) == "table" and (jwk.use == nil or jwk.use == "sig") then
      local der = crypto.jwk_to_der(jwk)
      if der then keys[#keys + 1] = {kid = jwk.kid, kty = jwk.kty, crv = jwk.crv, der = der} end
    end
  end
  return keys
end

-- The key set, fetched when the cache is empty or stale, or again (at most every 30 s) when
-- a token names a kid it does not have: the issuer rotated its keys. A failed fetch keeps
-- the keys it had.
local function keys_for(h, kid)
  local now = os.time()
  local function has_kid()
    if kid == nil then return true end
    for _, key in ipairs(jwks.keys) do if key.kid == kid then return true end end
    return false
  end
  local stale = jwks.keys == nil or now >= jwks.expires
  local rotated = jwks.keys ~= nil and not has_kid() and now >= (jwks.refetch_after or 0)
  if stale or rotated then
    local keys, err = fetch_keys(h)
    if keys then
      jwks.keys, jwks.expires, jwks.refetch_after = keys, now + cache_seconds, now + 30
    elseif jwks.keys == nil then
      return nil, err
    else
      h:logWarn("jwt-auth: " .. err .. "; using the cached keys")
    end
  end
  return jwks.keys
end

local function verify_with_jwks(h, alg, kid, signed, signature)
  local keys, err = keys_for(h, kid)
  if not keys then return false, err end
  local kty, crv = "RSA", nil
  if alg == "ES256" then
    kty, crv = "EC", "P-256"
    signature = crypto.ecdsa_signature_to_der(signature)
    if not signature then return false, "malformed signature" end
  end
  for _, key in ipairs(keys) do
    -- The key's type must fit the algorithm: an RSA key never checks an ES256 token.
    if (kid == nil or key.kid == kid) and key.kty == kty and (crv == nil or key.crv == crv) then
      local imported = h:importPublicKey(key.der, #key.der)
      if imported and h:verifySignature("sha256", imported, signature, #signature, signed, #signed) then
        return true
      end
    end
  end
  return false, "signature verification failed"
end

local function decode_part(text)
  local raw = base64.decode_url(text or "")
  if not raw then return nil end
  local value = cjson.decode(raw)
  if type(value) ~= "table" then return nil end
  return value
end

local function audience_ok(aud)
  if next(audiences) == nil then return true end
  if type(aud) == "string" then return audiences[aud] == true end
  if type(aud) == "table" then
    for _, one in ipairs(aud) do if audiences[one] then return true end end
  end
  return false
end

-- Checks the token; returns its claims, or nil and why not.
local function verify(h, token)
  local header_part, payload_part, signature_part = token:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]*)$")
  if not header_part then return nil, "malformed token" end
  local jose, claims = decode_part(header_part), decode_part(payload_part)
  if not jose or not claims then return nil, "malformed token" end
  local alg = jose.alg
  if type(alg) ~= "string" or not allowed[alg] then return nil, "algorithm not accepted" end
  local signature = base64.decode_url(signature_part)
  if not signature or signature == "" then return nil, "malformed signature" end
  local signed = header_part .. "." .. payload_part

  local ok, err
  if alg == "HS256" then
    ok = crypto.hmac_sha256_verify(secret, signed, signature)
    err = "signature verification failed"
  else
    ok, err = verify_with_jwks(h, alg, type(jose.kid) == "string" and jose.kid or nil, signed, signature)
  end
  if not ok then return nil, err end

  local now = os.time()
  if claims.exp ~= nil and (type(claims.exp) ~= "number" or now > claims.exp + skew) then return nil, "token expired" end
  if claims.nbf ~= nil and (type(claims.nbf) ~= "number" or now + skew < claims.nbf) then
    return nil, "token not yet valid"
  end
  if cfg.issuer and claims.iss ~= cfg.issuer then return nil, "wrong issuer" end
  if not audience_ok(claims.aud) then return nil, "wrong audience" end
  return claims
end

function on_request(h)
  local headers = h:headers()
  for _, name in pairs(claims_to_headers) do headers:remove(name) end

  local value = headers:get(header)
  local token = value and (value:match("^[Bb]earer%s+(%S+)%s*$") or (header ~= "authorization" and value or nil))
  if not token then return unauthorized(h, nil) end

  local claims, err = verify(h, token)
  if not claims then
    h:logInfo("jwt-auth: rejected: " .. err)
    return unauthorized(h, err)
  end

  for claim, name in pairs(claims_to_headers) do
    local claim_value = claims[claim]
    if type(claim_value) == "table" then
      claim_value = cjson.encode(claim_value)
    elseif claim_value == cjson.null then
      claim_value = nil
    end
    if claim_value ~= nil then headers:replace(name, tostring(claim_value)) end
  end
  if not forward_token then headers:remove(header) end
  if type(claims.sub) == "string" then h:streamInfo():dynamicMetadata():set("luxy.jwt-auth", "sub", claims.sub) end
end
