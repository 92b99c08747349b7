import ArgumentParser
import Foundation
import LuxyConfig
import LuxyImport
import LuxyPlugins

/// `luxy import envoyfilter FILE.yaml [--out DIR] [--force]`: Istio EnvoyFilter resources
/// (or bare Envoy Lua filter configs) → `DIR/plugins/NAME.lua`, and `chains:` on stdout and
/// in `DIR/chains.yaml`; what could not be mapped on stderr.
///
/// Exit status: 0 when all Lua was imported (notes allowed), 1 when some was not (or a
/// written script does not compile, or a file is in the way), 2 when the input is not a
/// readable EnvoyFilter or Envoy filter config.
struct ImportEnvoyFilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envoyfilter",
        abstract: "Import the Lua filters of Istio EnvoyFilter resources or Envoy HTTP filter configs.",
        discussion: "Writes DIR/plugins/NAME.lua and DIR/chains.yaml, prints the chains: block, and reports on stderr what could not be mapped. See docs/importing-envoy-filters.md.")

    @Argument(help: "A YAML file: EnvoyFilter resources (--- separated), or an Envoy HTTP filter config.")
    var file: String

    @Option(name: .shortAndLong, help: "The folder to write plugins/ and chains.yaml into.")
    var out = "."

    @Flag(help: "Replace files that already exist in the output folder.")
    var force = false

    func run() throws {
        let plan: ImportPlan
        do {
            plan = try EnvoyFilterImporter.plan(file: file)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        for finding in plan.findings { printError("\(finding)") }

        let written: [String]
        do {
            written = try plan.write(to: out, existing: force ? .overwrite : .keep)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        print(plan.chainsYAML, terminator: "")

        let compiled = checkScripts(plan, chainsFile: written.last ?? out + "/" + ImportPlan.chainsFileName)
        if plan.scripts.isEmpty { printError("\(file): no Lua filter to import") }
        printError("wrote \(written.joined(separator: ", "))")
        guard plan.importedAllLua, compiled else { throw ExitCode(1) }
    }

    /// Compiles every written script and runs its top level, as `luxy check` does, by loading
    /// the written `chains.yaml` (its `plugins/` is the one just written) plus the scripts in
    /// no chain. Errors name `file:line` in the written script.
    private func checkScripts(_ plan: ImportPlan, chainsFile: String) -> Bool {
        do throws(ConfigurationError) {
            var configuration = try ConfigurationLoader.load(file: chainsFile)
            let chained = Set(configuration.chains.values.flatMap { $0.map(\.name) })
            for script in plan.scripts where !chained.contains(script.name) {
                configuration.chains[.inboundHTTP, default: []].append(
                    StageConfiguration(name: script.name, priority: 0,
                                       location: SourceLocation(file: chainsFile, line: 1, column: 1)))
            }
            _ = try ConfigurationSnapshot.check(configuration)
            return true
        } catch {
            for problem in error.problems { printError("\(problem)") }
            return false
        }
    }
}
