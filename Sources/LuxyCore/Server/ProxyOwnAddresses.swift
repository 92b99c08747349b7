import LuxyConfig
import NIOCore

/// The addresses this proxy listens on, as an original destination could name them: the
/// configured listener and admin ports on any of the host's own addresses (loopback
/// included). A connection whose original destination is one of them was not redirected
/// (or was sent to the proxy's port on purpose): an `original_destination` cluster sending it
/// there would connect the proxy to itself, over and over. It is refused instead.
///
/// Made once per generation; immutable.
struct ProxyOwnAddresses {
    let ports: Set<Int>
    /// The host's interface addresses as text (`10.0.0.5`, `::1`), read when the generation
    /// was built.
    let hosts: Set<String>

    init(ports: Set<Int>, hosts: Set<String>) {
        self.ports = ports
        self.hosts = hosts
    }

    init(configuration: LuxyConfiguration, interfaceAddresses: [SocketAddress]) {
        var ports = Set(configuration.listeners.map(\.port).filter { $0 != 0 })
        if let admin = configuration.admin, admin.port != 0 { ports.insert(admin.port) }
        self.init(ports: ports, hosts: Set(interfaceAddresses.compactMap(\.ipAddress)))
    }

    /// The host's interface addresses now; none when they cannot be listed (then only the
    /// loopback and the connection's own address count as the proxy's).
    static func readInterfaceAddresses() -> [SocketAddress] {
        ((try? System.enumerateDevices()) ?? []).compactMap(\.address)
    }

    /// Whether `destination` is this proxy: a listener port on one of the host's addresses, or
    /// exactly the address the connection reached (`direct`, a listener bound to port 0).
    func contains(_ destination: SocketAddress, direct: SocketAddress?) -> Bool {
        guard let port = destination.port, let host = destination.ipAddress else { return false }
        if let direct, direct.port == port, direct.ipAddress == host { return true }
        guard ports.contains(port) else { return false }
        return hosts.contains(host) || Self.isLoopbackOrUnspecified(host) || host == direct?.ipAddress
    }

    private static func isLoopbackOrUnspecified(_ host: String) -> Bool {
        host.hasPrefix("127.") || host == "::1" || host == "0.0.0.0" || host == "::" || host.hasPrefix("::ffff:127.")
    }
}
