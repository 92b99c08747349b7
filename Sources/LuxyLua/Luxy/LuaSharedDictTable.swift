/// The table behind one shared dictionary: a hash index over nodes kept in least-recently-used
/// order, with per-entry expiry, bounded by entries and bytes. A value type with no lock of
/// its own: `LuaSharedDict` owns it inside its lock.
struct LuaSharedDictTable {
    private struct Node {
        var key: String
        var value: LuaSharedValue
        /// Monotonic nanoseconds after which the entry is gone; 0 never expires.
        var expiry: UInt64
        var previous: Int32
        var next: Int32
        var bytes: Int
    }

    /// What storing an entry came to.
    enum StoreOutcome: Equatable {
        /// `forcible`: entries that had not expired were evicted to make room (OpenResty's word).
        case stored(forcible: Bool)
        /// The entry alone is larger than `max_bytes`.
        case tooLarge
    }

    private static let none: Int32 = -1
    private var nodes: [Node] = []
    private var freeSlots: [Int32] = []
    private var index: [String: Int32] = [:]
    /// Most recently used first.
    private var head = LuaSharedDictTable.none
    private var tail = LuaSharedDictTable.none
    private(set) var bytes = 0
    var capacity: LuaSharedDictCapacity
    /// Entries that had not expired, removed to make room.
    private(set) var evictions = 0
    /// Entries found expired and removed.
    private(set) var expirations = 0

    init(capacity: LuaSharedDictCapacity) {
        self.capacity = capacity
    }

    var count: Int { index.count }

    /// The live value of `key`, made most recently used; an expired entry is removed.
    mutating func value(_ key: String, now: UInt64) -> LuaSharedValue? {
        guard let slot = liveSlot(key, now: now) else { return nil }
        moveToFront(slot)
        return nodes[Int(slot)].value
    }

    /// Stores `value` (replacing what `key` held), evicting least recently used entries while
    /// the table is over either bound.
    mutating func store(_ key: String, _ value: LuaSharedValue, expiry: UInt64, now: UInt64) -> StoreOutcome {
        let size = key.utf8.count + value.byteCount
        guard size <= capacity.maxBytes else { return .tooLarge }
        if let slot = index[key] { unlink(slot) }
        var forcible = false
        while count >= capacity.maxEntries || bytes + size > capacity.maxBytes, tail != Self.none {
            if evictTail(now: now) { forcible = true }
        }
        let node = Node(key: key, value: value, expiry: expiry, previous: Self.none, next: Self.none, bytes: size)
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            nodes[Int(free)] = node
        } else {
            slot = Int32(nodes.count)
            nodes.append(node)
        }
        index[key] = slot
        bytes += size
        linkFront(slot)
        return .stored(forcible: forcible)
    }

    /// Replaces a live entry's value in place, keeping its expiry and making it most recently
    /// used: `incr`'s common case, without unlinking and relinking the node. False when the
    /// key holds nothing live or the value would need evictions to fit (then `store`).
    mutating func replaceValue(_ key: String, _ value: LuaSharedValue, now: UInt64) -> Bool {
        guard let slot = liveSlot(key, now: now) else { return false }
        let size = key.utf8.count + value.byteCount
        let grown = size - nodes[Int(slot)].bytes
        guard bytes + grown <= capacity.maxBytes else { return false }
        nodes[Int(slot)].value = value
        nodes[Int(slot)].bytes = size
        bytes += grown
        moveToFront(slot)
        return true
    }

    mutating func remove(_ key: String) {
        if let slot = index[key] { unlink(slot) }
    }

    /// Up to `limit` live keys (0: all), most recently used first.
    mutating func keys(limit: Int, now: UInt64) -> [String] {
        var keys: [String] = []
        var slot = head
        var expired: [Int32] = []
        while slot != Self.none, limit == 0 || keys.count < limit {
            let node = nodes[Int(slot)]
            if node.expiry != 0, node.expiry <= now { expired.append(slot) } else { keys.append(node.key) }
            slot = node.next
        }
        for slot in expired {
            expirations += 1
            unlink(slot)
        }
        return keys
    }

    /// Applies new bounds, evicting what no longer fits.
    mutating func resize(to capacity: LuaSharedDictCapacity, now: UInt64) {
        self.capacity = capacity
        while count > capacity.maxEntries || bytes > capacity.maxBytes, tail != Self.none {
            _ = evictTail(now: now)
        }
    }

    private mutating func liveSlot(_ key: String, now: UInt64) -> Int32? {
        guard let slot = index[key] else { return nil }
        let expiry = nodes[Int(slot)].expiry
        if expiry != 0, expiry <= now {
            expirations += 1
            unlink(slot)
            return nil
        }
        return slot
    }

    /// Removes the least recently used entry; true when it had not expired (an eviction).
    private mutating func evictTail(now: UInt64) -> Bool {
        let slot = tail
        let expiry = nodes[Int(slot)].expiry
        let live = expiry == 0 || expiry > now
        if live { evictions += 1 } else { expirations += 1 }
        unlink(slot)
        return live
    }

    private mutating func unlink(_ slot: Int32) {
        let node = nodes[Int(slot)]
        if node.previous != Self.none { nodes[Int(node.previous)].next = node.next } else { head = node.next }
        if node.next != Self.none { nodes[Int(node.next)].previous = node.previous } else { tail = node.previous }
        index[node.key] = nil
        bytes -= node.bytes
        // The slot keeps no string or buffer alive while it waits for reuse.
        nodes[Int(slot)] = Node(key: "", value: .boolean(false), expiry: 0, previous: Self.none, next: Self.none,
                                bytes: 0)
        freeSlots.append(slot)
    }

    private mutating func linkFront(_ slot: Int32) {
        nodes[Int(slot)].previous = Self.none
        nodes[Int(slot)].next = head
        if head != Self.none { nodes[Int(head)].previous = slot }
        head = slot
        if tail == Self.none { tail = slot }
    }

    private mutating func moveToFront(_ slot: Int32) {
        guard head != slot else { return }
        let node = nodes[Int(slot)]
        if node.previous != Self.none { nodes[Int(node.previous)].next = node.next }
        if node.next != Self.none { nodes[Int(node.next)].previous = node.previous } else { tail = node.previous }
        linkFront(slot)
    }

    /// The live slot's expiry (for the TTL-keeping operations).
    mutating func expiry(of key: String, now: UInt64) -> UInt64? {
        liveSlot(key, now: now).map { nodes[Int($0)].expiry }
    }
}
