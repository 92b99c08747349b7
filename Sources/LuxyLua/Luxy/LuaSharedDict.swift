import NIOConcurrencyHelpers

/// One named dictionary shared by every event loop's VM (OpenResty's `ngx.shared.DICT`,
/// proxy-wasm's shared data). It lives in `LuaPlatform`, keyed by name, so it outlives the
/// generations that use it.
///
/// Thread-safe through one lock per dictionary (`NIOLockedValueBox`, a pthread mutex). Why a
/// plain mutex: every operation is one hash lookup and a few list links on a table no larger
/// than its bounds, so it is held for well under a microsecond; values are converted from and
/// to Lua outside it, so no Lua code, no Lua allocation and no I/O ever runs while it is held,
/// and a worker waiting for it waits for one such operation at most. A lock-free map would
/// not make LRU order and byte accounting atomic together; striping one dictionary would not
/// either, and unrelated dictionaries already have locks of their own.
public final class LuaSharedDict: Sendable {
    public let name: String
    private let table: NIOLockedValueBox<LuaSharedDictTable>
    private let clock: @Sendable () -> UInt64

    init(name: String, capacity: LuaSharedDictCapacity, clock: @escaping @Sendable () -> UInt64) {
        self.name = name
        self.table = NIOLockedValueBox(LuaSharedDictTable(capacity: capacity))
        self.clock = clock
    }

    /// What `incr` and `cas` came to.
    enum UpdateOutcome: Equatable {
        case stored(LuaSharedValue, forcible: Bool)
        case notFound
        case notANumber
        /// `cas`: the entry holds something else (given, nil when absent).
        case mismatch(LuaSharedValue?)
        case tooLarge

        /// What storing `value` came to, as `incr` and `cas` report it.
        init(_ outcome: LuaSharedDictTable.StoreOutcome, value: LuaSharedValue) {
            switch outcome {
            case .stored(let forcible): self = .stored(value, forcible: forcible)
            case .tooLarge: self = .tooLarge
            }
        }
    }

    public func get(_ key: String) -> LuaSharedValue? {
        let now = clock()
        return table.withLockedValue { $0.value(key, now: now) }
    }

    /// `set`: a nil value deletes.
    func set(_ key: String, _ value: LuaSharedValue?, ttl: Double?) -> LuaSharedDictTable.StoreOutcome {
        let now = clock()
        let expiry = Self.expiry(ttl, now: now)
        return table.withLockedValue { table in
            guard let value else {
                table.remove(key)
                return .stored(forcible: false)
            }
            return table.store(key, value, expiry: expiry, now: now)
        }
    }

    /// `add`: nil when the key holds a live value already.
    func add(_ key: String, _ value: LuaSharedValue, ttl: Double?) -> LuaSharedDictTable.StoreOutcome? {
        let now = clock()
        let expiry = Self.expiry(ttl, now: now)
        return table.withLockedValue { table in
            if table.expiry(of: key, now: now) != nil { return nil }
            return table.store(key, value, expiry: expiry, now: now)
        }
    }

    /// `incr`: adds `delta` to a number; a missing key starts at `initial` (with `ttl`) when
    /// given. An existing entry keeps its expiry.
    func incr(_ key: String, by delta: LuaSharedValue, initial: LuaSharedValue?, ttl: Double?) -> UpdateOutcome {
        let now = clock()
        return table.withLockedValue { table in
            if let existing = table.value(key, now: now) {
                guard let sum = Self.add(existing, delta) else { return .notANumber }
                if table.replaceValue(key, sum, now: now) { return .stored(sum, forcible: false) }
                let kept = table.expiry(of: key, now: now) ?? 0
                return UpdateOutcome(table.store(key, sum, expiry: kept, now: now), value: sum)
            }
            guard let initial else { return .notFound }
            guard let sum = Self.add(initial, delta) else { return .notANumber }
            return UpdateOutcome(table.store(key, sum, expiry: Self.expiry(ttl, now: now), now: now), value: sum)
        }
    }

    /// `cas`: stores `new` (nil deletes) only if the key holds `old` (nil: is absent).
    func compareAndSet(_ key: String, old: LuaSharedValue?, new: LuaSharedValue?, ttl: Double?) -> UpdateOutcome {
        let now = clock()
        let expiry = Self.expiry(ttl, now: now)
        return table.withLockedValue { table in
            let current = table.value(key, now: now)
            guard current == old else { return .mismatch(current) }
            guard let new else {
                table.remove(key)
                return .stored(.boolean(true), forcible: false)
            }
            return UpdateOutcome(table.store(key, new, expiry: expiry, now: now), value: new)
        }
    }

    func delete(_ key: String) {
        table.withLockedValue { $0.remove(key) }
    }

    public func keys(limit: Int) -> [String] {
        let now = clock()
        return table.withLockedValue { $0.keys(limit: limit, now: now) }
    }

    func resize(to capacity: LuaSharedDictCapacity) {
        let now = clock()
        table.withLockedValue { $0.resize(to: capacity, now: now) }
    }

    public var statistics: LuaSharedDictStatistics {
        table.withLockedValue {
            LuaSharedDictStatistics(name: name, entries: $0.count, bytes: $0.bytes, capacity: $0.capacity,
                                    evictions: $0.evictions, expirations: $0.expirations)
        }
    }

    private static func expiry(_ ttl: Double?, now: UInt64) -> UInt64 {
        guard let ttl, ttl > 0 else { return 0 }
        let nanoseconds = min(ttl * 1e9, Double(UInt64.max / 2))
        return now &+ max(1, UInt64(nanoseconds))
    }

    /// Integer arithmetic while both are integers and it does not overflow; float otherwise.
    private static func add(_ a: LuaSharedValue, _ b: LuaSharedValue) -> LuaSharedValue? {
        switch (a, b) {
        case (.integer(let x), .integer(let y)):
            let (sum, overflow) = x.addingReportingOverflow(y)
            return overflow ? .number(Double(x) + Double(y)) : .integer(sum)
        case (.integer(let x), .number(let y)): return .number(Double(x) + y)
        case (.number(let x), .integer(let y)): return .number(x + Double(y))
        case (.number(let x), .number(let y)): return .number(x + y)
        default: return nil
        }
    }
}

/// One dictionary's figures, for `/stats` and `/metrics`.
public struct LuaSharedDictStatistics: Sendable {
    public var name: String
    public var entries: Int
    public var bytes: Int
    public var capacity: LuaSharedDictCapacity
    public var evictions: Int
    public var expirations: Int
}
