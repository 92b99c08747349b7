import ArgumentParser
import Foundation
import LuxyConfig

/// `luxy new plugin NAME [--tcp] [--config luxy.yaml]`: writes `plugins/NAME.lua` (an HTTP or
/// TCP skeleton), `plugins/NAME_test.lua` (a test that passes), and adds NAME to the
/// `inbound-http` (or `inbound-tcp`) chain of the config, at a priority no other stage of the
/// chain has. Refuses to overwrite anything.
struct NewPluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract: "Scaffold plugins/NAME.lua, plugins/NAME_test.lua and its chain entry in the config.")

    @Argument(help: "The plugin's name: letters, digits, '-' and '_'.")
    var name: String

    @Flag(help: "A TCP plugin (inbound-tcp) instead of an HTTP one (inbound-http).")
    var tcp = false

    @Option(name: .shortAndLong, help: "The config file to add the chain entry to.")
    var config = "luxy.yaml"

    func validate() throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        guard let first = name.first, first.isLetter, name.allSatisfy(allowed.contains), !name.hasSuffix("_test") else {
            throw ValidationError("'\(name)': a plugin name starts with a letter and has only letters, digits, '-' and '_' (and does not end in _test)")
        }
    }

    func run() throws {
        let configuration: LuxyConfiguration
        do {
            configuration = try ConfigurationLoader.load(file: config)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let template = PluginTemplate(name: name, kind: tcp ? .tcp : .http)
        let chain = template.kind.chain
        if configuration.chains.values.joined().contains(where: { $0.name == name }) {
            printError("\(config): a stage named '\(name)' is already in chains:")
            throw ExitCode(1)
        }
        let folder = configuration.pluginsDirectory
        let scriptPath = (folder as NSString).appendingPathComponent("\(name).lua")
        let testPath = (folder as NSString).appendingPathComponent("\(name)_test.lua")
        for path in [scriptPath, testPath] where FileManager.default.fileExists(atPath: path) {
            printError("\(path) exists: not overwritten")
            throw ExitCode(1)
        }

        let taken = Set((configuration.chains[chain] ?? []).map(\.priority))
        let priority = Self.freePriority(taken: taken)
        let entry = ["- name: \(name)", "  priority: \(priority)", "  config:"]
            + template.configLines.map { "    " + $0 }
        let insertion = ChainEntryInsertion(chain: chain.rawValue, entry: entry)

        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try template.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
            try template.test.write(toFile: testPath, atomically: true, encoding: .utf8)
        } catch {
            printError("cannot write \(scriptPath): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        print("wrote \(scriptPath)")
        print("wrote \(testPath)")

        switch addEntry(insertion, chain: chain, priority: priority) {
        case .added:
            print("added '\(name)' to \(chain.rawValue) in \(config) at priority \(priority)")
        case .notAdded(let reason):
            print("\(config) was not changed (\(reason)); add this under chains: yourself:\n")
            print(insertion.snippet)
        }
        print("next: luxy test --config \(config) && luxy check --config \(config)")
    }

    enum EntryResult {
        case added
        case notAdded(String)
    }

    /// Edits the config in place, then reads it back: unless it loads with the new stage at
    /// its priority, the original text is put back.
    private func addEntry(_ insertion: ChainEntryInsertion, chain: ChainName, priority: Int) -> EntryResult {
        guard let original = try? String(contentsOfFile: config, encoding: .utf8) else {
            return .notAdded("cannot read it")
        }
        let edited: String
        switch insertion.apply(to: original) {
        case .edited(let text): edited = text
        case .unsafe(let reason): return .notAdded(reason)
        }
        do {
            try edited.write(toFile: config, atomically: true, encoding: .utf8)
        } catch {
            return .notAdded("cannot write it: \(error.localizedDescription)")
        }
        let reloaded = try? ConfigurationLoader.load(file: config)
        let added = reloaded?.chains[chain]?.contains { $0.name == name && $0.priority == priority } ?? false
        guard added else {
            try? original.write(toFile: config, atomically: true, encoding: .utf8)
            return .notAdded("the edit did not read back as expected")
        }
        return .added
    }

    /// 100, or the first of 90, 80, … 10, then 110, 120, … that no stage of the chain has.
    static func freePriority(taken: Set<Int>) -> Int {
        let candidates = Array(stride(from: 100, through: 10, by: -10)) + Array(stride(from: 110, to: 10_000, by: 10))
        return candidates.first { !taken.contains($0) } ?? (taken.max() ?? 0) + 1
    }
}
