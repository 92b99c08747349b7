-- Envoy: importPublicKey(der, len) and verifySignature(hash, key, sig, siglen, data, len)
-- check a signature: true, nil when it verifies, false and a message when not. (Envoy Lua
-- filter docs, "importPublicKey()", "verifySignature()") The key and signature are an
-- ECDSA P-256 pair made with openssl, over "hello".
--@upstream-header: x-verify: true|nil|false
function envoy_on_request(request_handle)
  local function unhex(s) return (s:gsub("..", function(c) return string.char(tonumber(c, 16)) end)) end
  local der = unhex("3059301306072a8648ce3d020106082a8648ce3d03010703420004b3797cf763542911b91d02b5c67f3af3eb60ad463069c205e512e67f257702af0556b7e4ab7b4ad65c4a8e58c1d4ba9acda0833ca29f5979b0150ec098d9271e")
  local sig = unhex("30450221009e8e10d52605193f1a03f49eaf8a99ed9a0e1b004eb69efd36be4df6b6ecf0ef0220444a81143f3105640abc4dfca74846c1593f230d76a7bdc9e868daaf72456f1b")
  local key = request_handle:importPublicKey(der, #der):get()
  local ok, err = request_handle:verifySignature("sha256", key, sig, #sig, "hello", 5)
  local bad = request_handle:verifySignature("sha256", key, sig, #sig, "hellO", 5)
  request_handle:headers():add("x-verify", tostring(ok) .. "|" .. tostring(err) .. "|" .. tostring(bad))
end
