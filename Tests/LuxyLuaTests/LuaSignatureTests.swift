import LuxyTestSupport
import XCTest

@testable import LuxyLua

/// `importPublicKey` / `verifySignature` with keys and signatures made by the `openssl` CLI.
final class LuaSignatureTests: LuaTestCase {
    private var keys: [TestSigningKey] = []

    override func tearDown() {
        for key in keys { key.remove() }
        keys = []
        super.tearDown()
    }

    private func makeKey(_ algorithm: TestSigningKey.Algorithm) throws -> TestSigningKey {
        let key = try TestSigningKey(algorithm)
        keys.append(key)
        return key
    }

    private func sign(_ data: String, hash: String, key: TestSigningKey) throws -> [UInt8] {
        try key.sign(Array(data.utf8), hash: hash)
    }

    private func hex(_ bytes: [UInt8]) -> String { TestSigningKey.hex(bytes) }

    /// Lua that turns hex back into bytes, so binary keys and signatures fit in the source.
    private let unhex = "local function unhex(s) return (s:gsub('..', function(c) return string.char(tonumber(c, 16)) end)) end\n"

    private func checkVerification(key: TestSigningKey, hashes: [String]) throws {
        for hash in hashes {
            let signature = try sign("the payload", hash: hash, key: key)
            try check(unhex + """
                local der = unhex('\(hex(key.publicKeyDER))')
                local sig = unhex('\(hex(signature))')
                local pubkey = h:importPublicKey(der, #der):get()
                assert(pubkey == der)
                local ok, err = h:verifySignature('\(hash)', pubkey, sig, #sig, 'the payload', 11)
                assert(ok == true and err == nil, '\(hash): ' .. tostring(err))
                -- Envoy compares the hash name without regard to case.
                ok = h:verifySignature('\(hash.uppercased())', pubkey, sig, #sig, 'the payload', 11)
                assert(ok == true, '\(hash) upper case')
                -- The key object itself is taken too.
                ok = h:verifySignature('\(hash)', h:importPublicKey(der, #der), sig, #sig, 'the payload', 11)
                assert(ok == true, '\(hash) key object')
                -- Other data, or a damaged signature, do not verify.
                ok, err = h:verifySignature('\(hash)', pubkey, sig, #sig, 'the payloaX', 11)
                assert(ok == false and err == 'Failed to verify digest. Error code: 0', tostring(err))
                local bad = string.char(sig:byte(1) ~ 1) .. sig:sub(2)
                ok, err = h:verifySignature('\(hash)', pubkey, bad, #bad, 'the payload', 11)
                assert(ok == false and err == 'Failed to verify digest. Error code: 0', tostring(err))
                -- Only dataLength bytes of data count, as in Envoy.
                ok = h:verifySignature('\(hash)', pubkey, sig, #sig, 'the payload and more', 11)
                assert(ok == true, '\(hash) data length')
                """)
        }
    }

    func testRSAPKCS1v15() throws {
        let key = try makeKey(.rsa(bits: 2048))
        try checkVerification(key: key, hashes: ["sha1", "sha256", "sha384", "sha512"])
    }

    func testECDSAP256() throws {
        let key = try makeKey(.ecdsa(curve: "P-256"))
        try checkVerification(key: key, hashes: ["sha1", "sha256", "sha384", "sha512"])
    }

    func testECDSAP384() throws {
        let key = try makeKey(.ecdsa(curve: "P-384"))
        try checkVerification(key: key, hashes: ["sha256", "sha384"])
    }

    func testAnotherKeysSignatureFails() throws {
        let signer = try makeKey(.ecdsa(curve: "P-256"))
        let other = try makeKey(.ecdsa(curve: "P-256"))
        let signature = try sign("data", hash: "sha256", key: signer)
        try check(unhex + """
            local der = unhex('\(hex(other.publicKeyDER))')
            local sig = unhex('\(hex(signature))')
            local ok, err = h:verifySignature('sha256', h:importPublicKey(der, #der):get(), sig, #sig, 'data', 4)
            assert(ok == false and err == 'Failed to verify digest. Error code: 0', tostring(err))
            """)
    }

    func testUnsupportedHashes() throws {
        let key = try makeKey(.ecdsa(curve: "P-256"))
        let signature = try sign("data", hash: "sha224", key: key)
        try check(unhex + """
            local der = unhex('\(hex(key.publicKeyDER))')
            local sig = unhex('\(hex(signature))')
            local pubkey = h:importPublicKey(der, #der):get()
            local ok, err = h:verifySignature('md5', pubkey, sig, #sig, 'data', 4)
            assert(ok == false and err == 'md5 is not supported.', tostring(err))
            -- swift-crypto has no SHA-224: a documented difference from Envoy.
            ok, err = h:verifySignature('sha224', pubkey, sig, #sig, 'data', 4)
            assert(ok == false and err == 'sha224 is not supported.', tostring(err))
            """)
    }

    func testBadKeys() throws {
        let key = try makeKey(.rsa(bits: 2048))
        try check(unhex + """
            -- Not DER at all, a truncated key, and a key length of 0: get() is nil, as in Envoy.
            assert(h:importPublicKey('not a key', 9):get() == nil)
            local der = unhex('\(hex(key.publicKeyDER))')
            assert(h:importPublicKey(der, #der - 10):get() == nil)
            assert(h:importPublicKey(der, 0):get() == nil)
            -- A failed import's object verifies nothing; bytes never imported are refused.
            local ok, err = h:verifySignature('sha256', h:importPublicKey('junk', 4), 'sig', 3, 'data', 4)
            assert(ok == false and err == 'Failed to initialize digest verify.', tostring(err))
            local raised, message = pcall(h.verifySignature, h, 'sha256', 'never imported', 'sig', 3, 'data', 4)
            assert(not raised and message:find('invalid public key', 1, true), message)
            raised, message = pcall(h.verifySignature, h, 'sha256', nil, 'sig', 3, 'data', 4)
            assert(not raised and message:find('string expected', 1, true), message)
            """)
    }

    func testKeyObjectIsDeadAfterItsPhase() throws {
        let key = try makeKey(.ecdsa(curve: "P-256"))
        let script = try load(unhex + """
            function envoy_on_request(h)
              local der = unhex('\(hex(key.publicKeyDER))')
              kept = h:importPublicKey(der, #der)
            end
            function envoy_on_response(h)
              local ok, err = pcall(kept.get, kept)
              assert(not ok and err:find('object used outside of proper scope', 1, true), tostring(err))
            end
            """)
        let stream = LuaHTTPStream(vm: vm, host: host)
        assertCompleted(run(script, .request, stream: stream))
        assertCompleted(run(script, .response, stream: stream))
    }
}
