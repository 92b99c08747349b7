import Logging
import LuxyConfig
import LuxyCore
import LuxyLua
import NIOCore

/// Turns a `ChainPlan` into Lua stages on one event loop: one VM per loop and generation,
/// each stage's script loaded into it with its own environment and config, for the http and
/// the tcp chains alike.
public struct LuaStageChainFactory: StageChainFactory {
    public let plan: ChainPlan
    let logger: Logger
    /// The process's shared state every loop's VM reaches through the `luxy` table.
    let platform: LuaPlatform

    public init(plan: ChainPlan, logger: Logger, platform: LuaPlatform) {
        self.plan = plan
        self.logger = logger
        self.platform = platform
    }

    public func makeChains(for configuration: LuxyConfiguration, generation: Int, on eventLoop: EventLoop,
                           stats: ProxyStats) throws -> LoopChains {
        let scripts = plan.allStages
        guard !scripts.isEmpty else { return LoopChains(chains: [:]) }
        let limits = configuration.limits
        let vm = try LuaVM(limits: LuaLimits(limits), libraries: plan.libraries, platform: platform)
        let shard = platform.metrics.shard(forLoop: Int(bitPattern: UInt(bitPattern: ObjectIdentifier(eventLoop))),
                                           executor: { eventLoop.execute($0) })
        vm.useMetricShard(shard)
        let states = LuaExchangeStatePool(vm: vm, accessLog: LoopAccessLog(eventLoop: eventLoop, stats: stats))
        var chains: [ChainName: HTTPStageChain] = [:]
        var tcpChains: [ChainName: TCPStageChain] = [:]
        do {
            for chain in [ChainName.inboundHTTP, .outboundHTTP] {
                let stages = try plan.stages(chain).map { resolved -> HTTPStage in
                    let script = try vm.loadScript(name: resolved.name, chunkName: resolved.displayPath,
                                                   source: resolved.source, config: resolved.configuration.config)
                    // A route's script in this stage's slot counts under the slot's stat_prefix, as in Envoy.
                    let counters = LuaStageCounters(statPrefix: resolved.configuration.effectiveStatPrefix, stats: stats,
                                                    stage: resolved.name, platform: platform, shard: shard)
                    var alternates: [String: HTTPStage] = [:]
                    for (scriptName, alternate) in resolved.alternates {
                        let alternateScript = try vm.loadScript(name: alternate.name, chunkName: alternate.displayPath,
                                                                source: alternate.source,
                                                                config: alternate.configuration.config)
                        alternates[scriptName] = LuaHTTPStage(resolved: alternate, script: alternateScript, vm: vm,
                                                              logger: logger, states: states,
                                                              counters: counters)
                    }
                    return LuaHTTPStage(resolved: resolved, script: script, vm: vm, logger: logger, states: states,
                                        counters: counters, alternates: alternates)
                }
                if !stages.isEmpty {
                    chains[chain] = HTTPStageChain(stages: stages, finishExchange: LuaHTTPStage.finish)
                }
            }
            for chain in [ChainName.inboundTCP, .outboundTCP] {
                let stages = try plan.stages(chain).map { resolved -> TCPStage in
                    let script = try vm.loadScript(name: resolved.name, chunkName: resolved.displayPath,
                                                   source: resolved.source, config: resolved.configuration.config)
                    let counters = LuaStageCounters(statPrefix: resolved.configuration.effectiveStatPrefix, stats: stats,
                                                    stage: resolved.name, phases: LuaStageCounters.Phase.tcp,
                                                    platform: platform, shard: shard)
                    return LuaTCPStage(resolved: resolved, script: script, vm: vm, logger: logger, counters: counters)
                }
                if !stages.isEmpty {
                    tcpChains[chain] = TCPStageChain(stages: stages, finishConnection: LuaTCPStage.finish)
                }
            }
        } catch {
            vm.close()
            throw error
        }
        // Closed from a host call (it ended the generation's last request), the VM closes on
        // the loop's next tick.
        let close = {
            states.close()
            vm.close(orLater: { eventLoop.assumeIsolated().execute($0) })
        }
        return LoopChains(chains: chains, tcpChains: tcpChains, onClose: close,
                          onCommit: { [logger] sideCalls in
                              vm.startBackgroundWork(host: LoopBackgroundHost(eventLoop: eventLoop, sideCalls: sideCalls,
                                                                              logger: logger))
                          },
                          onRetire: { vm.stopBackgroundWork() })
    }
}
