extension LoopGeneration {
    /// Whether this generation has the listener `name`: an http listener has a router, a tcp
    /// listener only a cluster.
    func serves(listener name: String) -> Bool {
        routers[name] != nil || configuration.listeners.contains { $0.name == name && $0.proto == .tcp }
    }
}
