import LuxyConfig
import XCTest

@testable import LuxyLua

/// The modules `require` gives without a lib folder: cjson, luxy.base64, luxy.url, luxy.crypto.
final class LuaBuiltinModuleTests: LuaTestCase {
    func testJSONRoundTrip() throws {
        try check("""
            local cjson = require('cjson')
            local text = cjson.encode({name = 'luxy', list = {1, 2, 3}, nested = {ok = true}, none = cjson.null})
            local back = cjson.decode(text)
            assert(back.name == 'luxy' and back.list[3] == 3 and back.nested.ok == true, text)
            assert(back.none == cjson.null)
            assert(cjson.decode('"\\\\u00e9"') == 'é')
            assert(cjson.encode_sparse_array == nil and cjson.new == nil, 'configuration functions are left out')
            """)
    }

    func testInvalidJSON() throws {
        try check("""
            local ok, err = pcall(require('cjson').decode, '{bad')
            assert(not ok and err:find('Expected'), err)
            local safe = require('cjson.safe')
            local value, message = safe.decode('{bad')
            assert(value == nil and message:find('Expected'), tostring(message))
            local v2, m2 = safe.encode(function() end)
            assert(v2 == nil and m2:find('Cannot serialise'), tostring(m2))
            """)
    }

    func testHugeJSONIsRefusedBeforeCjsonRuns() throws {
        vm.close()
        var limits = LuaLimits(instructionBudget: 1_000_000, memoryBytes: 64 << 20)
        limits.maxJSONBytes = 1 << 20
        vm = try LuaVM(limits: limits)
        try check("""
            local cjson, safe = require('cjson'), require('cjson.safe')
            local big = '[' .. string.rep('1,', 600000) .. '1]'
            local ok, err = pcall(cjson.decode, big)
            assert(not ok and err:find('over the JSON size limit'), err)
            local v, m = safe.decode(big)
            assert(v == nil and m:find('lua_max_json_bytes'), m)
            -- A table that nests itself twice per level encodes to 2^30 copies: refused by the walk.
            local t = {'x'}
            for i = 1, 30 do t = {t, t} end
            local ok2, err2 = pcall(cjson.encode, t)
            assert(not ok2 and err2:find('over the JSON size limit'), err2)
            """)
    }

    func testJSONWorkIsChargedToTheBudget() throws {
        vm.close()
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 200_000, memoryBytes: 64 << 20))
        // 100 KB of JSON is 400,000 instructions' worth, over this budget of 200,000; one long
        // string, so what decoding allocates is charged far less (12,500). The text comes in
        // as config, made by the host, so building it costs the script nothing.
        let big = "\"" + String(repeating: "x", count: 100_000) + "\""
        let script = try load("function on_request(h) require('cjson').decode(config) end", config: .string(big))
        let error = failure(run(script))
        XCTAssertTrue(error?.message.contains("instruction budget exceeded") == true, "\(String(describing: error))")
    }

    func testHashingIsChargedToTheBudget() throws {
        vm.close()
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 200_000, memoryBytes: 64 << 20))
        let script = try load("function on_request(h) require('luxy.crypto').sha256(config) end",
                              config: .string(String(repeating: "x", count: 300_000)))
        let error = failure(run(script))
        XCTAssertTrue(error?.message.contains("instruction budget exceeded") == true, "\(String(describing: error))")
    }

    func testBase64() throws {
        try check("""
            local b64 = require('luxy.base64')
            assert(b64.encode('hello?>') == 'aGVsbG8/Pg==')
            assert(b64.encode_url('hello?>') == 'aGVsbG8_Pg')
            assert(b64.decode('aGVsbG8/Pg==') == 'hello?>')
            assert(b64.decode_url('aGVsbG8_Pg') == 'hello?>')
            assert(b64.decode('') == '')
            local v, err = b64.decode('a$==')
            assert(v == nil and err == 'invalid base64')
            assert(select('#', b64.decode('abc')) == 1)
            """)
    }

    func testURL() throws {
        try check("""
            local url = require('luxy.url')
            assert(url.escape('a b&c/d~é') == 'a%20b%26c%2Fd~%C3%A9', url.escape('a b&c/d~é'))
            assert(url.unescape('a%20b%2fc+d%zz') == 'a b/c+d%zz')
            local q = url.parse_query('a=1&b=x+y&b=%3D&flag&&c=')
            assert(q.a == '1' and q.b[1] == 'x y' and q.b[2] == '=' and q.flag == true and q.c == '')
            assert(url.build_query({b = {'2', '3'}, a = 'x y', c = true, d = false}) == 'a=x%20y&b=2&b=3&c')
            """)
    }

    func testCrypto() throws {
        try check("""
            local crypto = require('luxy.crypto')
            assert(crypto.sha256_hex('abc') == 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
            assert(#crypto.sha256('abc') == 32)
            -- RFC 4231 test case 2.
            assert(crypto.hmac_sha256_hex('Jefe', 'what do ya want for nothing?')
                == '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
            local mac = crypto.hmac_sha256('Jefe', 'what do ya want for nothing?')
            assert(crypto.hmac_sha256_verify('Jefe', 'what do ya want for nothing?', mac))
            assert(not crypto.hmac_sha256_verify('Jefe', 'what do ya want for something?', mac))
            local r1, r2 = crypto.random_bytes(16), crypto.random_bytes(16)
            assert(#r1 == 16 and r1 ~= r2)
            assert(not pcall(crypto.random_bytes, 1 << 20), 'bounded')
            local ok, err = pcall(crypto.sha256)
            assert(not ok and err:find("bad argument #1 to 'sha256'"), err)
            """)
    }

    func testBuiltinModulesWorkAtTopLevelAndAreCopiesPerRequire() throws {
        let a = try load("local c = require('luxy.crypto')\nc.sha256_hex = nil\nX = c.sha256_hex", name: "a")
        _ = a
        try check("assert(require('luxy.crypto').sha256_hex ~= nil, 'another plugin changed only its own copy')")
    }
}
