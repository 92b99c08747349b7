/// The later phases scripts gave up for one request (`handle:skipPhase(name)`). A tracing
/// module that did not sample a request has no span to finish in its log phase; once it says
/// so, the chain does not enter the VM for that phase at all. Held by the request's stream,
/// and so loop-confined with it; a handful of entries at most, kept in capacity from one
/// request to the next.
struct SkippedPhases {
    private struct Entry: Equatable {
        let script: ObjectIdentifier
        let phase: LuaHTTPPhase
    }

    private var entries: [Entry] = []

    mutating func insert(_ script: LuaScript, _ phase: LuaHTTPPhase) {
        let entry = Entry(script: ObjectIdentifier(script), phase: phase)
        if !entries.contains(entry) { entries.append(entry) }
    }

    func contains(_ script: LuaScript, _ phase: LuaHTTPPhase) -> Bool {
        // Empty on most requests: no hashing, no walk.
        guard !entries.isEmpty else { return false }
        return entries.contains(Entry(script: ObjectIdentifier(script), phase: phase))
    }

    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
    }
}

extension LuaHTTPPhase {
    /// The phase a script may skip by this name: one of the phases after `current`.
    init?(skipping name: String, after current: LuaHTTPPhase) {
        switch (name, current) {
        case ("response", .request): self = .response
        case ("log", .request), ("log", .response): self = .log
        default: return nil
        }
    }
}
