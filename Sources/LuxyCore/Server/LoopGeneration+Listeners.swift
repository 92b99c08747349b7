import LuxyConfig

extension LoopGeneration {
    /// Whether this generation has the listener `name`.
    func serves(listener name: String) -> Bool {
        listenersByName[name] != nil
    }

    func listener(named name: String) -> ListenerConfiguration? {
        listenersByName[name]
    }
}

extension LoopContext {
    /// The generation that serves listener `name`: the current one, else, for a listener a
    /// reload is adding, the pending one (it accepts before the generation is committed).
    func generation(serving name: String) -> LoopGeneration? {
        if let generation, generation.serves(listener: name) { return generation }
        if let pendingGeneration, pendingGeneration.serves(listener: name) { return pendingGeneration }
        return nil
    }
}
