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
        do {
            let snapshot = try ConfigurationSnapshot.load(configFile: config)
            print(snapshot.plan.describe(generation: nil))
            if let libraries = snapshot.describeLibraries() { print(libraries) }
            print("\(snapshot.configuration.sourceFile): ok")
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}
