import Foundation

/// A key pair made by the `openssl` CLI in a temporary directory, and signatures made with it,
/// to check `verifySignature` against an independent implementation. Blocking file and process
/// work: call it from a test's set-up, never from an event loop.
public struct TestSigningKey: Sendable {
    /// What `openssl genpkey` makes.
    public enum Algorithm: Sendable {
        case rsa(bits: Int)
        /// `P-256`, `P-384` or `P-521`.
        case ecdsa(curve: String)

        var genpkeyArguments: [String] {
            switch self {
            case .rsa(let bits): ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:\(bits)"]
            case .ecdsa(let curve): ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:\(curve)"]
            }
        }
    }

    public struct OpenSSLError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public let directory: String
    public let privateKeyPath: String
    /// The public key as DER SubjectPublicKeyInfo, what Envoy's `importPublicKey` takes.
    public let publicKeyDER: [UInt8]

    public init(_ algorithm: Algorithm) throws {
        directory = NSTemporaryDirectory() + "luxy-key-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        privateKeyPath = directory + "/key.pem"
        let publicPath = directory + "/public.der"
        try Self.openssl(["genpkey"] + algorithm.genpkeyArguments + ["-out", privateKeyPath])
        try Self.openssl(["pkey", "-in", privateKeyPath, "-pubout", "-outform", "DER", "-out", publicPath])
        publicKeyDER = Array(try Data(contentsOf: URL(fileURLWithPath: publicPath)))
    }

    /// `openssl dgst -HASH -sign`: raw PKCS#1 v1.5 for RSA, DER for ECDSA.
    public func sign(_ data: [UInt8], hash: String) throws -> [UInt8] {
        let name = UUID().uuidString
        let dataPath = directory + "/\(name).data"
        let signaturePath = directory + "/\(name).sig"
        try Data(data).write(to: URL(fileURLWithPath: dataPath))
        try Self.openssl(["dgst", "-\(hash)", "-sign", privateKeyPath, "-out", signaturePath, dataPath])
        return Array(try Data(contentsOf: URL(fileURLWithPath: signaturePath)))
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Lowercase hex, so binary keys and signatures travel in Lua source, YAML and headers.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let complaint = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OpenSSLError(message: "openssl \(arguments.first ?? ""): " + String(decoding: complaint, as: UTF8.self))
        }
    }
}
