import LuxyLua

extension TCPSessionRun {
    /// The connection's state as the test's `conn` table takes it.
    func push(_ w: TestLuaTableWriter, forwarded: [UInt8]) {
        w.newTable()
        w.set("forwarded", bytes: forwarded)
        w.set("to_server", bytes: toServer)
        w.set("to_client", bytes: toClient)
        switch state {
        case .open:
            w.set("closed", bool: false)
        case .closed(let stage):
            w.set("closed", bool: true)
            w.set("closed_by", stage)
        }
        w.errors(errors)
        w.logs(host.logs)
        w.calls(host.sideCalls.recorded)
    }
}
