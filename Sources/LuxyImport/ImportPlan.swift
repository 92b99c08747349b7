import LuxyConfig

/// Everything an import produces, before anything is written: the scripts, the chain
/// entries that run them, and what the user should know.
public struct ImportPlan: Sendable {
    /// One file for `plugins/`.
    public struct Script: Sendable, Equatable {
        public enum Role: Sendable, Equatable {
            /// The code a filter runs by default; it has chain entries.
            case filter
            /// A `source_codes` entry: Envoy runs it only on routes whose `LuaPerRoute` names it.
            case namedSource(filter: String, key: String)
            /// Code a `LuaPerRoute` carries for some routes.
            case perRoute
        }

        /// The stage name; the file is `plugins/NAME.lua`.
        public var name: String
        public var source: String
        public var role: Role
        public var origin: InputPlace

        public var fileName: String { "\(name).lua" }
    }

    /// One `- name: … priority: …` under a chain.
    public struct ChainEntry: Sendable, Equatable {
        public var chain: ChainName
        public var name: String
        public var priority: Int
        public var origin: InputPlace
        /// How the priority came about, for the comment beside the entry.
        public var placement: String
    }

    /// The file imported, absolute.
    public var inputFile: String
    public var scripts: [Script]
    public var chainEntries: [ChainEntry]
    /// `LuaPerRoute`s as `per_stage:` settings, for the routes they name.
    public var perRouteSettings: [PerRouteLuaSetting]
    public var findings: [ImportFinding]

    /// True when no Lua was left behind (notes allowed): `luxy import` exits 0.
    public var importedAllLua: Bool { !findings.contains { $0.severity == .notImported } }
}
