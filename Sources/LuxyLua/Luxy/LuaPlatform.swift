import Dispatch
import NIOConcurrencyHelpers

/// What the `luxy` table reaches beyond one VM, for the whole process: shared dictionaries,
/// shared queues and the metrics scripts define. Keyed by name, never by generation, so it
/// survives reloads; `LuxyRuntime` owns one and hands it to every VM it builds. A VM made
/// without one (the scratch VM of `luxy check`) gets a private one, so checking a script
/// touches no live state.
///
/// Thread-safe: the registries are behind locks taken only to find or create an entry (once
/// per script load, not per request); the entries have their own (see each type).
public final class LuaPlatform: Sendable {
    /// Monotonic nanoseconds: TTLs are measured on it. Injectable for tests.
    let clock: @Sendable () -> UInt64
    private let dicts = NIOLockedValueBox(DictRegistry())
    /// The metric families scripts declare, and every loop's values.
    public let metrics = LuaMetricRegistry()

    private struct DictRegistry {
        var declared: [String: LuaSharedDictCapacity] = [:]
        var undeclared = LuaSharedDictCapacity.undeclared
        var byName: [String: LuaSharedDict] = [:]
        var queues: [String: LuaSharedQueue] = [:]
    }

    public init(clock: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) {
        self.clock = clock
    }

    /// The dictionary called `name`, made on first use with its declared capacity.
    public func sharedDict(named name: String) -> LuaSharedDict {
        dicts.withLockedValue { registry in
            if let dict = registry.byName[name] { return dict }
            let dict = LuaSharedDict(name: name, capacity: registry.declared[name] ?? registry.undeclared, clock: clock)
            registry.byName[name] = dict
            return dict
        }
    }

    /// The `shared_dicts:` of a configuration being installed: existing dictionaries take
    /// their new bounds (evicting what no longer fits), later ones are made with them.
    public func configureSharedDicts(_ declared: [String: LuaSharedDictCapacity],
                                     undeclared: LuaSharedDictCapacity = .undeclared) {
        let existing = dicts.withLockedValue { registry in
            registry.declared = declared
            registry.undeclared = undeclared
            return registry.byName
        }
        for (name, dict) in existing { dict.resize(to: declared[name] ?? undeclared) }
    }

    /// The queue called `name`, made on first use; `maxLength` (when given) bounds it from now on.
    func sharedQueue(named name: String, maxLength: Int?) -> LuaSharedQueue {
        let queue = dicts.withLockedValue { registry in
            if let queue = registry.queues[name] { return queue }
            let queue = LuaSharedQueue(name: name, maxLength: maxLength ?? LuaPlatform.defaultQueueLength)
            registry.queues[name] = queue
            return queue
        }
        if let maxLength { queue.setMaxLength(maxLength) }
        return queue
    }

    /// What a queue holds at most when no script said.
    static let defaultQueueLength = 10_000

    public func sharedQueueStatistics() -> [LuaSharedQueueStatistics] {
        dicts.withLockedValue { Array($0.queues.values) }.map(\.statistics).sorted { $0.name < $1.name }
    }

    /// Every dictionary made so far, by name.
    public func sharedDictStatistics() -> [LuaSharedDictStatistics] {
        dicts.withLockedValue { Array($0.byName.values) }.map(\.statistics).sorted { $0.name < $1.name }
    }
}
