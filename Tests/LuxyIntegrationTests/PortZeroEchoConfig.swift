/// A config whose admin API and one inbound echo listener bind port 0, so that several `luxy`
/// processes can run the very same file (as pods of one Deployment do); each one's ports are
/// read from its log (`LuxyChildProcess.boundAdminPort()`, `boundListenerPort()`).
enum PortZeroEchoConfig {
    /// `settings` are top-level lines (`plugins_dir: .`); `stages` the inbound-http chain's items.
    static func yaml(settings: String = "", stages: String) -> String {
        """
        admin: { address: 127.0.0.1:0 }
        workers: 1
        \(settings)
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
        chains:
          inbound-http:
        \(stages)
        """
    }
}
