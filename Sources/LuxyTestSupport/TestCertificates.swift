import Foundation

/// A throwaway PKI for TLS tests, made with the `openssl` CLI in a fresh temporary folder:
/// CAs and leaf certificates (EC P-256) with the SANs a test asks for.
public final class TestCertificates: Sendable {
    public struct Issued: Sendable {
        public let certificate: String
        public let key: String
    }

    public let directory: String

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// A self-signed CA, `NAME.crt` + `NAME.key`.
    @discardableResult
    public func makeCA(_ name: String = "ca", commonName: String? = nil) throws -> Issued {
        let issued = paths(name)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", issued.key, "-out", issued.certificate, "-days", "2",
                     "-subj", "/O=Luxy Tests/CN=\(commonName ?? "Luxy Test CA \(name)")",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        return issued
    }

    /// A leaf certificate signed by the CA `ca`, usable by servers and clients. The files are
    /// written next to each other and renamed into place, so a watcher sees whole files.
    @discardableResult
    public func issue(_ name: String, commonName: String, dnsNames: [String] = [], uris: [String] = [],
                      ips: [String] = [], ca: String = "ca") throws -> Issued {
        let issued = paths(name)
        let scratch = paths("\(name).tmp-\(UUID().uuidString.prefix(8))")
        let sans = dnsNames.map { "DNS:\($0)" } + uris.map { "URI:\($0)" } + ips.map { "IP:\($0)" }
        var extensions = "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n"
        if !sans.isEmpty { extensions += "subjectAltName=\(sans.joined(separator: ","))\n" }
        let extFile = scratch.certificate + ".ext"
        let csr = scratch.certificate + ".csr"
        try extensions.write(toFile: extFile, atomically: true, encoding: .utf8)
        try openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", scratch.key, "-out", csr, "-subj", "/O=Luxy Tests/CN=\(commonName)"])
        let authority = paths(ca)
        try openssl(["x509", "-req", "-in", csr, "-CA", authority.certificate, "-CAkey", authority.key,
                     "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "2",
                     "-extfile", extFile, "-out", scratch.certificate])
        try? FileManager.default.removeItem(atPath: extFile)
        try? FileManager.default.removeItem(atPath: csr)
        _ = rename(scratch.key, issued.key)
        _ = rename(scratch.certificate, issued.certificate)
        return issued
    }

    public func paths(_ name: String) -> Issued {
        Issued(certificate: "\(directory)/\(name).crt", key: "\(directory)/\(name).key")
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `openssl`'s SHA-256 fingerprint of `NAME.crt`, as lowercase hex without colons.
    public func sha256Fingerprint(_ name: String) throws -> String {
        let output = try openssl(["x509", "-in", paths(name).certificate, "-noout", "-fingerprint", "-sha256"])
        let value = output.split(separator: "=", maxSplits: 1).last.map(String.init) ?? ""
        return value.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    @discardableResult
    private func openssl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errors = Pipe()
        process.standardError = errors
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Small outputs: reading one pipe to its end before the other cannot deadlock here.
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CertificateError(message: "openssl \(arguments.first ?? ""): " + String(decoding: complaint, as: UTF8.self))
        }
        return String(decoding: printed, as: UTF8.self)
    }

    public struct CertificateError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
