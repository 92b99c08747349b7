import ArgumentParser
import LuxyPlugins

/// `luxy check`: everything a start would do short of binding sockets.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the config and compile every script; print the chains or each error with file:line.")

    @Option(name: .shortAndLong, help: "The config file.")
    var config = "luxy.yaml"

    func run() throws {
        let snapshot: ConfigurationSnapshot
        do {
            snapshot = try ConfigurationSnapshot.load(configFile: config)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        print(snapshot.plan.describe(generation: nil))
        // Who requires which library; plugins that can never run, a config with no listeners.
        let report = snapshot.inspect()
        if let libraries = snapshot.describeLibraries(report.requires) { print(libraries) }
        for finding in report.findings { printError("\(finding)") }
        if report.hasErrors { throw ExitCode(1) }
        print("\(snapshot.configuration.sourceFile): ok")
        // What `/stats` will report as `content_hash` once a replica runs these files.
        print("content hash: \(snapshot.contentHash)")
    }
}
