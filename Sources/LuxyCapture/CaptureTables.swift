import Foundation

/// Applies or removes the capture rules of one address family by running Debian's
/// `iptables` / `iptables-restore` (or the `ip6tables` pair). Each call runs to its end; no
/// state is kept between calls.
public struct CaptureTables: Sendable {
    public enum Family: Sendable {
        case ipv4
        case ipv6

        var command: String { self == .ipv4 ? "iptables" : "ip6tables" }
        var restoreCommand: String { self == .ipv4 ? "iptables-restore" : "ip6tables-restore" }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let family: Family
    private let iptables: String
    private let restore: String

    /// Finds the tools on `PATH` (Debian's root default when it is unset: they live in /usr/sbin).
    public init(family: Family, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.family = family
        let path = environment["PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        let directories = path.split(separator: ":").map(String.init)
        func find(_ name: String) throws -> String {
            for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return "\(directory)/\(name)"
            }
            throw Failure(description: "\(name) not found on PATH: install the iptables package (Debian: apt-get install iptables)")
        }
        self.iptables = try find(family.command)
        self.restore = try find(family.restoreCommand)
    }

    /// Luxy's chains written anew and the jump rules added once: the same rules however
    /// often it runs.
    public func apply(_ rules: CaptureRules) throws {
        removeJumps()
        let input = rules.restoreInput(ipv6: family == .ipv6)
        let result = try run(restore, ["--noflush"], input: input)
        guard result.status == 0 else {
            throw Failure(description: "\(family.restoreCommand) failed (\(result.status)): \(result.errorText)")
        }
    }

    /// The jump rules and Luxy's chains removed; other rules stay. Nothing to remove is fine.
    public func clean() throws {
        removeJumps()
        for chain in CaptureRules.chains {
            _ = try run(iptables, ["-t", "nat", "-F", chain])
        }
        for chain in CaptureRules.chains {
            _ = try run(iptables, ["-t", "nat", "-X", chain])
        }
    }

    /// Every copy of each jump rule (an earlier run's, or two from a race): `-D` until it fails.
    private func removeJumps() {
        for jump in CaptureRules.jumps {
            for _ in 0..<64 {
                guard let result = try? run(iptables, ["-t", "nat", "-D", jump.chain] + jump.rule), result.status == 0
                else { break }
            }
        }
    }

    private struct Outcome {
        var status: Int32
        var errorText: String
    }

    private func run(_ tool: String, _ arguments: [String], input: String? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus,
                       errorText: String(decoding: errorData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
