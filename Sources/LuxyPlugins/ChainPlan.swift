import Foundation
import LuxyConfig

/// The four chains of one configuration, each with its Lua stages in run order and their
/// scripts read from disk. Immutable and Sendable: built once on the control plane, then
/// turned into Lua VMs on every loop.
public struct ChainPlan: Sendable, Equatable {
    public private(set) var chains: [ChainName: [ResolvedStage]]

    /// Resolves every enabled stage to `plugins/NAME.lua`, else `modules/NAME.lua` (a plugin
    /// replaces the built-in module of the same name), and orders each chain: higher
    /// priority first, ties by name.
    public init(configuration: LuxyConfiguration) throws(ConfigurationError) {
        var problems: [ConfigurationError.Problem] = []
        var chains: [ChainName: [ResolvedStage]] = [:]
        for chain in ChainName.allCases {
            var resolved: [ResolvedStage] = []
            for stage in configuration.chains[chain] ?? [] where !stage.disabled {
                do {
                    resolved.append(try Self.resolve(stage, in: configuration))
                } catch {
                    problems.append(contentsOf: error.problems)
                }
            }
            chains[chain] = resolved.sorted { lhs, rhs in
                lhs.priority != rhs.priority ? lhs.priority > rhs.priority : lhs.name < rhs.name
            }
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        self.chains = chains
    }

    func strippingLocations() -> ChainPlan {
        var copy = self
        copy.chains = chains.mapValues { stages in
            stages.map { stage in
                var stage = stage
                stage.configuration = stage.configuration.strippingLocation()
                return stage
            }
        }
        return copy
    }

    public func stages(_ chain: ChainName) -> [ResolvedStage] {
        chains[chain] ?? []
    }

    /// Every distinct script, for compiling once.
    public var allStages: [(chain: ChainName, stage: ResolvedStage)] {
        ChainName.allCases.flatMap { chain in stages(chain).map { (chain, $0) } }
    }

    private static func resolve(_ stage: StageConfiguration, in configuration: LuxyConfiguration)
        throws(ConfigurationError) -> ResolvedStage {
        let file = "\(stage.name).lua"
        let candidates: [(ResolvedStage.Origin, String)] = [
            (.plugin, configuration.pluginsDirectory), (.module, configuration.modulesDirectory),
        ]
        for (origin, directory) in candidates {
            let path = (directory as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError("stage '\(stage.name)': cannot read \(path)", at: stage.location)
            }
            return ResolvedStage(configuration: stage, origin: origin, path: path,
                                 displayPath: "\(origin.rawValue)/\(file)",
                                 source: String(decoding: data, as: UTF8.self))
        }
        throw ConfigurationError(
            "stage '\(stage.name)': no \(file) in \(configuration.pluginsDirectory) or \(configuration.modulesDirectory)",
            at: stage.location)
    }
}
