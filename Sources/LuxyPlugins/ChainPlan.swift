import Foundation
import LuxyConfig
import LuxyLua

/// The four chains of one configuration, each with its Lua stages in run order and their
/// scripts read from disk. Immutable and Sendable: built once on the control plane, then
/// turned into Lua VMs on every loop.
public struct ChainPlan: Sendable, Equatable {
    public private(set) var chains: [ChainName: [ResolvedStage]]
    /// Per chain, the clusters its listeners send traffic to, for the load-balancing line of
    /// the print (policy and health settings).
    public private(set) var clusters: [ChainName: [ClusterConfiguration]] = [:]
    /// The libraries of the lib folder (`require`), read with the scripts: a change to one is a
    /// change of the generation (ChainPlan+Libraries).
    public private(set) var libraries: [LuaLibrary] = []

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
        Self.resolveAlternates(into: &chains, for: configuration, problems: &problems)
        do {
            libraries = try Self.readLibraries(configuration)
        } catch {
            problems.append(contentsOf: error.problems)
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        self.chains = chains
        self.clusters = Self.clustersByChain(configuration)
    }

    /// The scripts routes and virtual hosts name in `per_stage:` entries, resolved like stages
    /// and hung on the stage whose slot they take.
    private static func resolveAlternates(into chains: inout [ChainName: [ResolvedStage]],
                                          for configuration: LuxyConfiguration,
                                          problems: inout [ConfigurationError.Problem]) {
        for listener in configuration.listeners where listener.proto == .http {
            let overrides = listener.virtualHosts.flatMap { host in
                [host.stageOverrides] + host.routes.map(\.stageOverrides)
            }
            for (stageName, override) in overrides.flatMap({ $0 }) {
                guard let script = override.script,
                      let index = chains[listener.chain]?.firstIndex(where: { $0.name == stageName }),
                      chains[listener.chain]?[index].alternates[script] == nil else { continue }
                do {
                    var slot = chains[listener.chain]![index]
                    var stage = slot.configuration
                    stage.location = override.location
                    var alternate = try resolve(stage, scriptName: script, in: configuration)
                    alternate.configuration = slot.configuration
                    slot.alternates[script] = alternate
                    chains[listener.chain]![index] = slot
                } catch {
                    problems.append(contentsOf: error.problems)
                }
            }
        }
    }

    func strippingLocations() -> ChainPlan {
        var copy = self
        copy.chains = chains.mapValues { stages in
            stages.map { stage in
                var stage = stage
                stage.configuration = stage.configuration.strippingLocation()
                stage.alternates = stage.alternates.mapValues { alternate in
                    var alternate = alternate
                    alternate.configuration = alternate.configuration.strippingLocation()
                    return alternate
                }
                return stage
            }
        }
        // Clusters are compared with the configuration; the plan only prints them.
        copy.clusters = [:]
        return copy
    }

    /// The clusters the routes (and tcp `cluster:` / `sni_routes`) of each chain's listeners
    /// name, in the order of `clusters:`.
    private static func clustersByChain(_ configuration: LuxyConfiguration) -> [ChainName: [ClusterConfiguration]] {
        var names: [ChainName: Set<String>] = [:]
        for listener in configuration.listeners {
            let chain = ChainName(direction: listener.direction, protocol: listener.proto)
            var used = Set(listener.tcpRoutes.map(\.cluster))
            if let cluster = listener.tcpCluster { used.insert(cluster) }
            for route in listener.virtualHosts.flatMap(\.routes) {
                switch route.action {
                case .cluster(let name): used.insert(name)
                case .weightedClusters(let weighted): used.formUnion(weighted.map(\.name))
                case .directResponse, .echo: break
                }
            }
            names[chain, default: []].formUnion(used)
        }
        return names.mapValues { used in configuration.clusters.filter { used.contains($0.name) } }
    }

    /// Every stage and every alternate script through `transform` (schema defaults filled in).
    mutating func updateStages(_ transform: (ResolvedStage) throws(ConfigurationError) -> ResolvedStage)
        throws(ConfigurationError)
    {
        for (chain, stages) in chains {
            var updated: [ResolvedStage] = []
            for stage in stages {
                var stage = try transform(stage)
                for (script, alternate) in stage.alternates {
                    stage.alternates[script] = try transform(alternate)
                }
                updated.append(stage)
            }
            chains[chain] = updated
        }
    }

    public func stages(_ chain: ChainName) -> [ResolvedStage] {
        chains[chain] ?? []
    }

    /// Every distinct script, for compiling once: the stages, and the scripts routes run in
    /// their slots.
    public var allStages: [(chain: ChainName, stage: ResolvedStage)] {
        ChainName.allCases.flatMap { chain in
            stages(chain).flatMap { stage in [(chain, stage)] + stage.alternates.values.map { (chain, $0) } }
        }
    }

    private static func resolve(_ stage: StageConfiguration, scriptName: String? = nil,
                                in configuration: LuxyConfiguration) throws(ConfigurationError) -> ResolvedStage {
        let file = "\(scriptName ?? stage.name).lua"
        let candidates: [(ResolvedStage.Origin, String)] = [
            (.plugin, configuration.pluginsDirectory), (.module, configuration.modulesDirectory),
        ]
        for (origin, directory) in candidates {
            let path = (directory as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            // Checked before reading, so a 50 MB file is refused without being loaded (through
            // symlinks, as a Kubernetes ConfigMap volume has them).
            let limit = configuration.limits.luaMaxScriptBytes
            let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            if let size = (try? FileManager.default.attributesOfItem(atPath: target))?[.size] as? Int, size > limit {
                throw ConfigurationError(
                    "stage '\(stage.name)': \(path) is \(size) bytes, over limits.lua_max_script_bytes (\(limit))",
                    at: stage.location)
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError("stage '\(stage.name)': cannot read \(path)", at: stage.location)
            }
            return ResolvedStage(configuration: stage, origin: origin, path: path,
                                 displayPath: "\(origin.rawValue)/\(file)",
                                 source: String(decoding: data, as: UTF8.self))
        }
        let owner = scriptName == nil ? "stage '\(stage.name)'" : "per_stage '\(stage.name)'"
        throw ConfigurationError(
            "\(owner): no \(file) in \(configuration.pluginsDirectory) or \(configuration.modulesDirectory)",
            at: stage.location)
    }
}
