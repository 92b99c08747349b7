/// A config whose admin API and one inbound echo listener bind port 0, so that several `luxy`
/// processes can run the very same file (as pods of one Deployment do); each one's ports are
/// read from its log (`LuxyChildProcess.boundAdminPort()`, `boundListenerPort()`).
enum PortZeroEchoConfig {
    /// A `listeners:` block: the inbound http listener `inbound` on port 0, answering everything
    /// with the echo action.
    static let echoListener = """
        listeners:
          - name: inbound
            direction: inbound
            protocol: http
            address: 127.0.0.1:0
            virtual_hosts:
              - domains: ["*"]
                routes:
                  - match: { prefix: / }
                    echo: true
        """

    /// `settings` are top-level lines (`plugins_dir: .`); `stages` the inbound-http chain's items.
    static func yaml(settings: String = "", stages: String) -> String {
        """
        admin: { address: 127.0.0.1:0 }
        workers: 1
        \(settings)
        \(echoListener)
        chains:
          inbound-http:
        \(stages)
        """
    }
}
