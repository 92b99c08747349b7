/// The domains of some of a listener's virtual hosts, looked up Envoy's way: an exact
/// domain, then the longest `*.suffix`, then `*`. Built once per generation with its
/// router, then only read (a value; no loop owns it).
struct VirtualHostDomains {
    private var exact: [String: Int] = [:]
    private var suffixes: [VirtualHostSuffix] = []
    private var catchAll: Int?

    /// A `*.suffix` domain and the virtual host it leads to.
    private struct VirtualHostSuffix {
        var suffix: String
        var index: Int
    }

    /// `index`: the virtual host's position in the listener. The first host naming a
    /// domain keeps it.
    mutating func add(domains: [String], index: Int) {
        for domain in domains.map({ $0.lowercased() }) {
            if domain == "*" {
                if catchAll == nil { catchAll = index }
            } else if domain.hasPrefix("*") {
                suffixes.append(VirtualHostSuffix(suffix: String(domain.dropFirst()), index: index))
            } else if exact[domain] == nil {
                exact[domain] = index
            }
        }
        suffixes.sort { $0.suffix.count > $1.suffix.count }
    }

    /// `host`: lower-case, without its port.
    func index(for host: Substring) -> Int? {
        if !exact.isEmpty, let index = exact[String(host)] { return index }
        for entry in suffixes where host.utf8.count > entry.suffix.utf8.count && host.hasSuffix(entry.suffix) {
            return entry.index
        }
        return catchAll
    }
}
