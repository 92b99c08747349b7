import Foundation
import LuxyTestSupport
import NIOCore
import XCTest

/// The built `luxy run` as a child process, on a config and plugins written to a fresh
/// folder, its log in a file there: what the process tests and the memory soak start. Made
/// and used by one test at a time.
final class LuxyChildProcess {
    let directory: String
    let proxyPort: Int
    let adminPort: Int
    let log: String
    let process: Process

    /// `yaml` is a config whose listener says `address: 127.0.0.1:0`: it gets a free port, and
    /// an admin API on another is put in front. `plugins` go to `plugins/NAME.lua`.
    /// `launcher`: a command that runs luxy for it (`ip netns exec NS setpriv --reuid=…`).
    /// `standardOutput`: a file of its own for the process's standard output (the access
    /// log), else it goes to `log` with standard error.
    init(yaml: String, plugins: [String: String], arguments: [String] = [], launcher: [String] = [],
         standardOutput: String? = nil,
         group: EventLoopGroup) async throws {
        let folder = try LuxyCommandFolder("luxy-proc")
        directory = folder.path
        proxyPort = try await freePort(group)
        adminPort = try await freePort(group)
        var files = ["luxy.yaml": "admin: { address: 127.0.0.1:\(adminPort) }\n"
            + yaml.replacingOccurrences(of: "address: 127.0.0.1:0", with: "address: 127.0.0.1:\(proxyPort)")]
        for (name, source) in plugins { files["plugins/\(name).lua"] = source }
        try folder.write(files)
        log = directory + "/luxy.log"
        process = try Self.launch(launcher + [BuiltLuxyBinary.path, "run", "--config", directory + "/luxy.yaml", "--no-watch"] + arguments,
                                  log: log, standardOutput: standardOutput)
    }

    /// `luxy run` on a folder the test laid out itself, watching it for changes, its log in
    /// `log`. Several may run on one folder: its config binds port 0 (listeners and admin),
    /// and `boundAdminPort()` reads the port the admin API got from the log.
    init(configFile: String, log: String, binary: String = BuiltLuxyBinary.path) throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw XCTSkip("\(binary) is not built") }
        directory = (configFile as NSString).deletingLastPathComponent
        proxyPort = 0
        adminPort = 0
        self.log = log
        process = try Self.launch([binary, "run", "--config", configFile], log: log)
    }

    private static func launch(_ command: [String], log: String, standardOutput: String? = nil) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: log))
        if let standardOutput {
            _ = FileManager.default.createFile(atPath: standardOutput, contents: nil)
            process.standardOutput = try XCTUnwrap(FileHandle(forWritingAtPath: standardOutput))
        } else {
            process.standardOutput = handle
        }
        process.standardError = handle
        try process.run()
        return process
    }

    /// The admin API's port as its start-up line logged it (`address=…:PORT … admin API listening`).
    func boundAdminPort() -> Int? { loggedPort("admin API listening") }

    /// The first listener's port, from its `listening` line.
    func boundListenerPort() -> Int? { loggedPort("] listening") }

    private func loggedPort(_ marker: String) -> Int? {
        guard let line = logText.split(separator: "\n").first(where: { $0.contains(marker) }),
              let address = line.range(of: "address=") else { return nil }
        let text = line[address.upperBound...].prefix { $0 != " " }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        return Int(text[text.index(after: colon)...])
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit; false if it is still running after `timeout`.
    func waitForExit(within timeout: Duration) async -> Bool {
        await waitUntil(timeout: timeout) { !process.isRunning }
    }

    /// Stops it if it still runs and removes its folder.
    func remove() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
