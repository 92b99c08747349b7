import _CryptoExtras
import Crypto
import Foundation
import LuxyTestSupport
import XCTest

/// `modules/jwt-auth.lua` on a running proxy, with tokens signed here by swift-crypto and the
/// JWKS served by a fake upstream: HS256, RS256 and ES256, claims checks, claims to headers,
/// 401 with a `www-authenticate` challenge, and the key set cached per VM.
final class JWTAuthTests: IntegrationTestCase {
    private static let secret = "a shared secret of thirty-two bytes!"
    private let rsaKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    private let ecKey = P256.Signing.PrivateKey()
    private var idp: FakeUpstream!

    override func setUp() async throws {
        try await super.setUp()
        idp = try await FakeUpstream.start(name: "idp", group: group)
        idp.serve(path: "/jwks.json", body: try jwks())
    }

    override func tearDown() async throws {
        await idp?.stop()
        try await super.tearDown()
    }

    private static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    private func jwks() throws -> String {
        let rsa = try rsaKey.publicKey.getKeyPrimitives()
        let point = Array(ecKey.publicKey.rawRepresentation)
        return try Self.json(["keys": [
            ["kty": "RSA", "kid": "rsa-1", "use": "sig", "n": Self.base64URL(rsa.modulus), "e": Self.base64URL(rsa.publicExponent)],
            ["kty": "EC", "kid": "ec-1", "crv": "P-256", "x": Self.base64URL(point[0..<32]), "y": Self.base64URL(point[32..<64])],
        ]])
    }

    /// A signed token; `claims` default to a valid subject, issuer and audience for an hour.
    private func token(_ alg: String, kid: String? = nil, claims extra: [String: Any] = [:]) throws -> String {
        var header: [String: Any] = ["alg": alg, "typ": "JWT"]
        if let kid { header["kid"] = kid }
        var claims: [String: Any] = ["sub": "alice", "iss": "https://idp.test", "aud": "bookstore",
                                     "exp": Int(Date().timeIntervalSince1970) + 3600, "groups": ["admin", "dev"]]
        claims.merge(extra) { $1 }
        let signed = Self.base64URL(Array(try Self.json(header).utf8)) + "." + Self.base64URL(Array(try Self.json(claims).utf8))
        let data = Data(signed.utf8)
        let signature: [UInt8]
        switch alg {
        case "HS256":
            signature = Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: Data(Self.secret.utf8))))
        case "RS256":
            signature = Array(try rsaKey.signature(for: data, padding: .insecurePKCS1v1_5).rawRepresentation)
        default:
            signature = Array(try ecKey.signature(for: data).rawRepresentation)
        }
        return signed + "." + Self.base64URL(signature)
    }

    private func startJWTProxy(_ extraConfig: String = "") async throws -> TestProxy {
        let stages = """
            - name: jwt-auth
              priority: 200
              config:
                hs256_secret: "\(Self.secret)"
                jwks_cluster: idp
                jwks_path: /jwks.json
                issuer: https://idp.test
                audiences: [bookstore]
                claims_to_headers: { sub: x-user, groups: x-groups }
        \(extraConfig)
        """
        let cluster = """
          - name: idp
            endpoints: ["\(idp.address)"]
        """
        return try await startProxy(standardConfig(inboundStages: stages, cluster: cluster, workers: 1))
    }

    func testValidTokensOfEachAlgorithmPassWithClaimsAsHeaders() async throws {
        let proxy = try await startJWTProxy()
        let client = try await connect(proxy)
        for (alg, kid) in [("HS256", nil), ("RS256", "rsa-1"), ("ES256", "ec-1"), ("ES256", nil)] {
            let response = try await client.request("GET", "/books", headers: [
                ("authorization", "Bearer " + (try token(alg, kid: kid))), ("x-user", "mallory"),
            ])
            XCTAssertEqual(response.status, 200, "\(alg) \(kid ?? "no kid"): \(response.body)")
            let received = try XCTUnwrap(upstream.received.last)
            XCTAssertEqual(received.head.headers[canonicalForm: "x-user"], ["alice"], alg)
            XCTAssertEqual(received.head.headers.first(name: "x-groups"), #"["admin","dev"]"#, alg)
        }
        // The key set was fetched once, by the one VM, and cached.
        XCTAssertEqual(idp.received.filter { $0.head.uri == "/jwks.json" }.count, 1)
    }

    func testBadTokensGet401WithChallenge() async throws {
        let proxy = try await startJWTProxy()
        let client = try await connect(proxy)
        let now = Int(Date().timeIntervalSince1970)
        let valid = try token("RS256", kid: "rsa-1")
        let tampered = valid.split(separator: ".").enumerated().map { index, part in
            index == 1 ? Self.base64URL(Array(#"{"sub":"root","exp":9999999999}"#.utf8)) : String(part)
        }.joined(separator: ".")
        let unsigned = Self.base64URL(Array(#"{"alg":"none"}"#.utf8)) + "." + Self.base64URL(Array(#"{"sub":"x"}"#.utf8)) + "."
        let cases: [(String, String?, String)] = [
            ("no token", nil, #"Bearer realm="luxy""#),
            ("expired", try token("HS256", claims: ["exp": now - 3600]), "token expired"),
            ("not yet valid", try token("ES256", kid: "ec-1", claims: ["nbf": now + 3600]), "token not yet valid"),
            ("wrong issuer", try token("HS256", claims: ["iss": "https://evil.test"]), "wrong issuer"),
            ("wrong audience", try token("RS256", kid: "rsa-1", claims: ["aud": ["other"]]), "wrong audience"),
            ("tampered payload", tampered, "signature verification failed"),
            ("alg none", unsigned, "algorithm not accepted"),
            ("garbage", "not-a-jwt", "malformed token"),
        ]
        let before = upstream.received.count
        for (name, token, expected) in cases {
            let headers = token.map { [("authorization", "Bearer " + $0)] } ?? []
            let response = try await client.request("GET", "/books", headers: headers)
            XCTAssertEqual(response.status, 401, name)
            let challenge = response.header("www-authenticate") ?? ""
            XCTAssertTrue(challenge.hasPrefix(#"Bearer realm="luxy""#) && challenge.contains(expected),
                          "\(name): \(challenge)")
        }
        XCTAssertEqual(upstream.received.count, before, "no rejected request reached the service")
    }

    func testUnreachableKeySetIs401AndHS256StillWorks() async throws {
        idp.serve(path: "/jwks.json", body: "not json")
        let proxy = try await startJWTProxy()
        let client = try await connect(proxy)
        let rejected = try await client.request("GET", "/", headers: [("authorization", "Bearer " + (try token("RS256", kid: "rsa-1")))])
        XCTAssertEqual(rejected.status, 401)
        XCTAssertTrue(rejected.header("www-authenticate")?.contains("the key set is not a JWKS") == true)
        let accepted = try await client.request("GET", "/", headers: [("authorization", "Bearer " + (try token("HS256")))])
        XCTAssertEqual(accepted.status, 200)
    }

    /// `examples/jwt-auth`: its tokens verify against its key set and secret, as its README
    /// shows, and its luxy.yaml passes `luxy check`.
    func testExampleTokensAndConfig() async throws {
        var example = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { example.deleteLastPathComponent() }
        example.appendPathComponent("examples/jwt-auth")
        func read(_ path: String) throws -> String {
            try String(contentsOf: example.appendingPathComponent(path), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        idp.serve(path: "/.well-known/jwks.json", body: try read("keys/jwks.json"))
        let stages = """
            - name: jwt-auth
              priority: 200
              config:
                hs256_secret: "change-me-this-is-the-demo-secret"
                jwks_cluster: idp
                issuer: https://idp.example
                audiences: [bookstore]
                claims_to_headers: { sub: x-user }
        """
        let cluster = "  - name: idp\n    endpoints: [\"\(idp.address)\"]"
        let proxy = try await startProxy(standardConfig(inboundStages: stages, cluster: cluster, workers: 1))
        let client = try await connect(proxy)
        for file in ["keys/hs256.jwt", "keys/es256.jwt"] {
            let response = try await client.request("GET", "/books", headers: [("authorization", "Bearer " + (try read(file)))])
            XCTAssertEqual(response.status, 200, "\(file): \(response.body)")
            XCTAssertEqual(upstream.received.last?.head.headers.first(name: "x-user"), "alice", file)
        }
        if FileManager.default.isExecutableFile(atPath: BuiltLuxyBinary.path) {
            let check = try LuxyCommandRunner(workingDirectory: example.path).run(["check", "--config", "luxy.yaml"])
            XCTAssertEqual(check.status, 0, check.all)
        }
    }

    func testMisconfigurationFailsTheLoadWithFileAndLine() async throws {
        let stages = """
            - name: jwt-auth
              priority: 200
              config: { algorithms: [HS256] }
        """
        do {
            _ = try await startProxy(standardConfig(inboundStages: stages))
            XCTFail("HS256 without a secret must not load")
        } catch {
            XCTAssertTrue("\(error)".contains("/modules/jwt-auth.lua:62: jwt-auth: HS256 is accepted but "
                + "config.hs256_secret is not set"), "\(error)")
        }
    }
}
