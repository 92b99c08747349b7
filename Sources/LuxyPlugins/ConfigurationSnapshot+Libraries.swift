import LuxyLua

extension ConfigurationSnapshot {
    /// `luxy check`'s `libraries:` section: each library of the lib folder and each built-in
    /// module a script required, with the `file:line` of every require the top-level code
    /// ran. Nil when there is neither.
    public func describeLibraries(_ requires: [LuaRequire]) -> String? {
        let byName = Dictionary(grouping: requires, by: \.name)
        let names = plan.libraries.map(\.name) + byName.keys.filter { name in
            !plan.libraries.contains { $0.name == name }
        }.sorted()
        guard !names.isEmpty else { return nil }
        var lines = ["libraries:"]
        for name in names {
            let origin = plan.libraries.first { $0.name == name }?.chunkName ?? "built-in"
            let callers = (byName[name] ?? []).map { "\($0.requirer):\($0.line)" }
            var seen = Set<String>()
            let unique = callers.filter { seen.insert($0).inserted }
            let users = unique.isEmpty ? "not required at load" : "required by " + unique.joined(separator: ", ")
            lines.append("  \(name)  (\(origin))  \(users)")
        }
        return lines.joined(separator: "\n")
    }
}
