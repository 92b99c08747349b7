import CLua
import Foundation
import LuxyConfig
import LuxyLua
import LuxyPlugins
import NIOCore

/// `luxy_test.load` and `luxy_test.chain`: scripts loaded by production's path.
extension PluginTestFileRun {
    /// One plugin, checked as production checks a stage (`ConfigurationSnapshot.check`): its
    /// file found and read under the limits, its top level run, its config as a chain entry
    /// would give it. It runs in the file's VM for single plugins.
    func loadPlugin(path: String, config: ConfigValue, name: String, failOpen: Bool)
        -> Result<(TestLuaTableWriter) -> Void, PluginTestError>
    {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        guard url.pathExtension == "lua", FileManager.default.fileExists(atPath: url.path) else {
            return .failure(PluginTestError("luxy_test.load: no plugin at \(path)"))
        }
        let folder = url.deletingLastPathComponent().path
        let location = SourceLocation(file: self.file, line: 1, column: 1)
        let stage = StageConfiguration(name: url.deletingPathExtension().lastPathComponent, priority: 100, config: config,
                                       failOpen: failOpen, location: location)
        // As if a luxy.yaml beside the plugin's folder named it. A file in a folder called
        // modules/ is found as a built-in module (its chunk name says modules/…), any other as a plugin.
        let isModule = url.deletingLastPathComponent().lastPathComponent == "modules"
        let root = (folder as NSString).deletingLastPathComponent
        var configuration = LuxyConfiguration(
            sourceFile: root + "/luxy.yaml", admin: nil, workers: nil,
            pluginsDirectory: isModule ? folder + "/.no-plugins" : folder, modulesDirectory: folder,
            limits: LimitsConfiguration(), listeners: [], clusters: [], chains: [.inboundHTTP: [stage]])
        // `require` finds lib/ beside the plugin's folder, as with lib_dir's default.
        configuration.libDirectory = root + "/lib"
        let snapshot: ConfigurationSnapshot
        do {
            snapshot = try ConfigurationSnapshot.check(configuration)
        } catch {
            return .failure(PluginTestError("luxy_test.load: \(error.problems.map(\.message).joined(separator: "; "))"))
        }
        do {
            let vm: LuaVM
            if let pluginVM {
                vm = pluginVM
            } else {
                vm = try makeVM(for: snapshot)
                pluginVM = vm
            }
            let stages = try stages(of: snapshot, .inboundHTTP, in: vm, name: name)
            return .success(register(PluginTestTarget(stages: stages, clusters: []), vm: vm))
        } catch {
            return .failure(PluginTestError("luxy_test.load: \(error.message)"))
        }
    }

    func loadChain(configFile: String, chain name: String) -> Result<(TestLuaTableWriter) -> Void, PluginTestError> {
        guard let chain = ChainName(rawValue: name) else {
            return .failure(PluginTestError("luxy_test.chain: no chain '\(name)' (inbound-http, inbound-tcp, outbound-http, outbound-tcp)"))
        }
        let snapshot: ConfigurationSnapshot
        do {
            snapshot = try ConfigurationSnapshot.load(configFile: configFile)
        } catch {
            return .failure(PluginTestError("luxy_test.chain: \(error)"))
        }
        do {
            // A VM of its own, as each generation has in production.
            let vm = try makeVM(for: snapshot)
            let stages = try stages(of: snapshot, chain, in: vm)
            let clusters = Set(snapshot.configuration.clusters.map(\.name))
            return .success(register(PluginTestTarget(stages: stages, clusters: clusters), vm: vm))
        } catch {
            return .failure(PluginTestError("luxy_test.chain: \(error.message)"))
        }
    }

    /// A VM as `LuaStageChainFactory` makes one for a generation of `snapshot`: its limits, its
    /// libraries (`require`), the file's platform, metric shard and background host.
    func makeVM(for snapshot: ConfigurationSnapshot) throws(LuaScriptError) -> LuaVM {
        let vm = try LuaVM(limits: LuaLimits(snapshot.configuration.limits), libraries: snapshot.plan.libraries,
                           platform: platform)
        vm.useMetricShard(metricShard)
        // As if its generation were committed before the scripts load: their timers start
        // as each loads (on the file's virtual clock). Queue consumers are not started.
        vm.startBackgroundWork(host: backgroundHost)
        vms.append(vm)
        return vm
    }

    /// The stages of `chain` loaded into `vm` as `LuaStageChainFactory` loads them; `name`
    /// renames a single stage (what `plugin 'NAME' failed` says).
    func stages(of snapshot: ConfigurationSnapshot, _ chain: ChainName, in vm: LuaVM, name: String? = nil)
        throws(LuaScriptError) -> [PluginTestStage]
    {
        var stages: [PluginTestStage] = []
        for resolved in snapshot.plan.stages(chain) {
            let script = try vm.loadScript(name: resolved.name, chunkName: resolved.displayPath, source: resolved.source,
                                           config: resolved.configuration.config)
            stages.append(PluginTestStage(name: name ?? resolved.name, chunkName: resolved.displayPath, script: script,
                                          configuration: resolved.configuration))
        }
        return stages
    }

    func register(_ target: PluginTestTarget, vm: LuaVM) -> (TestLuaTableWriter) -> Void {
        targets.append(LoadedTarget(target: target, vm: vm))
        let id = targets.count
        return { w in lua_pushinteger(w.L, lua_Integer(id)) }
    }
}
