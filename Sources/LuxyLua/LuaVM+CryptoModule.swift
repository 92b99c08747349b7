import _CryptoExtras
import CLua
import Crypto
import Foundation

/// `luxy.crypto`: hashes, HMAC, random bytes and the key conversions JWT verification needs,
/// all by swift-crypto; nothing here hashes or signs by hand.
extension LuaVM {
    func callCrypto(_ function: LuaModuleFunction, _ arguments: LuaModuleArguments) throws(LuaRaise) -> Int32 {
        let s = arguments.stack
        switch function {
        case .sha256:
            s.push(bytes: Array(SHA256.hash(data: try arguments.bytes(1))))
        case .sha256Hex:
            s.push(Self.hex(SHA256.hash(data: try arguments.bytes(1))))
        case .hmacSHA256, .hmacSHA256Hex:
            let key = SymmetricKey(data: try arguments.bytes(1))
            let mac = HMAC<SHA256>.authenticationCode(for: try arguments.bytes(2), using: key)
            if function == .hmacSHA256 { s.push(bytes: Array(mac)) } else { s.push(Self.hex(mac)) }
        case .hmacSHA256Verify:
            // Constant-time: a compare that stops at the first different byte tells an
            // attacker how much of a forged MAC was right.
            let key = SymmetricKey(data: try arguments.bytes(1))
            s.push(HMAC<SHA256>.isValidAuthenticationCode(try arguments.bytes(3), authenticating: try arguments.bytes(2),
                                                          using: key))
        case .randomBytes:
            let count = try arguments.integer(1)
            guard (0...LuaModuleFunction.maxRandomBytes).contains(count) else {
                throw LuaRaise("bad argument #1 to 'random_bytes' (must be 0 to \(LuaModuleFunction.maxRandomBytes))")
            }
            // SymmetricKey's bytes come from the system's secure generator.
            let key = SymmetricKey(size: SymmetricKeySize(bitCount: count * 8))
            s.push(bytes: key.withUnsafeBytes { Array($0) })
        case .jwkToDER:
            do {
                s.push(bytes: try Self.subjectPublicKeyInfo(jwk: arguments))
            } catch let error as LuaRaise {
                throw error
            } catch {
                s.pushNil()
                s.push("invalid JWK: \(error)")
                return 2
            }
        case .ecdsaSignatureToDER:
            let raw = try arguments.bytes(1)
            let der: [UInt8]?
            switch raw.count {
            case 64: der = (try? P256.Signing.ECDSASignature(rawRepresentation: raw)).map { Array($0.derRepresentation) }
            case 96: der = (try? P384.Signing.ECDSASignature(rawRepresentation: raw)).map { Array($0.derRepresentation) }
            case 132: der = (try? P521.Signing.ECDSASignature(rawRepresentation: raw)).map { Array($0.derRepresentation) }
            default: der = nil
            }
            guard let der else {
                s.pushNil()
                s.push("not a raw P-256, P-384 or P-521 signature (r || s)")
                return 2
            }
            s.push(bytes: der)
        default:
            throw LuaRaise("'\(function.luaName)' is not in luxy.crypto")
        }
        return 1
    }

    private static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A JWK (RFC 7517) public key — RSA `{kty, n, e}` or EC `{kty, crv, x, y}`, base64url
    /// fields — as the DER SubjectPublicKeyInfo `importPublicKey` takes.
    private static func subjectPublicKeyInfo(jwk arguments: LuaModuleArguments) throws -> [UInt8] {
        func field(_ key: String) throws -> [UInt8] {
            guard let text = try arguments.field(1, key) else { throw JWKError("no '\(key)'") }
            guard let bytes = Base64.decode(text) else { throw JWKError("'\(key)' is not base64url") }
            return bytes
        }
        let kty = try arguments.field(1, "kty").map { String(decoding: $0, as: UTF8.self) }
        switch kty {
        case "RSA":
            return Array(try _RSA.Signing.PublicKey(n: try field("n"), e: try field("e")).derRepresentation)
        case "EC":
            let crv = try arguments.field(1, "crv").map { String(decoding: $0, as: UTF8.self) }
            let point = try field("x") + field("y")
            switch crv {
            case "P-256": return Array(try P256.Signing.PublicKey(rawRepresentation: point).derRepresentation)
            case "P-384": return Array(try P384.Signing.PublicKey(rawRepresentation: point).derRepresentation)
            case "P-521": return Array(try P521.Signing.PublicKey(rawRepresentation: point).derRepresentation)
            default: throw JWKError("unsupported curve '\(crv ?? "")'")
            }
        default:
            throw JWKError("unsupported key type '\(kty ?? "")' (RSA and EC are)")
        }
    }
}

/// Why a JWK could not become a key; its text is the message `jwk_to_der` returns.
struct JWKError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
