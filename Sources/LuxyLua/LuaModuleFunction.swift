/// The host functions of the built-in modules scripts reach with `require` (`luxy.base64`,
/// `luxy.url`, `luxy.crypto`): plain functions, not methods of a handle object, so they work
/// in top-level code and libraries too. Ids 1400-1699, beside `LuaMethod`'s.
enum LuaModuleFunction: Int32, CaseIterable {
    case base64Encode = 1400, base64Decode, base64URLEncode, base64URLDecode
    case urlEscape = 1420, urlUnescape, urlParseQuery, urlBuildQuery
    case sha256 = 1440, sha256Hex, hmacSHA256, hmacSHA256Hex, hmacSHA256Verify, randomBytes
    case jwkToDER, ecdsaSignatureToDER

    /// The built-in modules, by the name `require` takes.
    enum Module: String {
        case base64 = "luxy.base64"
        case url = "luxy.url"
        case crypto = "luxy.crypto"
    }

    /// The module `require` returns with this function in it.
    var module: Module {
        switch rawValue {
        case ..<1420: .base64
        case ..<1440: .url
        default: .crypto
        }
    }

    var luaName: String {
        switch self {
        case .base64Encode: "encode"
        case .base64Decode: "decode"
        case .base64URLEncode: "encode_url"
        case .base64URLDecode: "decode_url"
        case .urlEscape: "escape"
        case .urlUnescape: "unescape"
        case .urlParseQuery: "parse_query"
        case .urlBuildQuery: "build_query"
        case .sha256: "sha256"
        case .sha256Hex: "sha256_hex"
        case .hmacSHA256: "hmac_sha256"
        case .hmacSHA256Hex: "hmac_sha256_hex"
        case .hmacSHA256Verify: "hmac_sha256_verify"
        case .randomBytes: "random_bytes"
        case .jwkToDER: "jwk_to_der"
        case .ecdsaSignatureToDER: "ecdsa_signature_to_der"
        }
    }

    /// The most bytes `random_bytes(n)` hands out in one call.
    static let maxRandomBytes = 1024
    /// Instructions charged per byte of string arguments: these loops run in Swift, out of
    /// reach of the count hook, so the budget is charged by length instead, before the work.
    /// One instruction (about 7 ns) a byte is more than hashing or encoding takes.
    static let instructionsPerByte = 1
}
