extension ProxyStats {
    /// Keeps the largest `value` seen under `name` (a high-water mark, e.g. buffered bytes).
    /// Callers only report new per-connection peaks, so this dictionary lookup is rare.
    public func recordMax(_ name: String, _ value: Int) {
        let current = self.value(of: name)
        if value > current { increment(name, by: value - current) }
    }
}
