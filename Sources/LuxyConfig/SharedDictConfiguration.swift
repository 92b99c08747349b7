/// One entry of the top-level `shared_dicts:` in YAML: how much the shared dictionary of that
/// name (`luxy.shared(NAME)`) may hold. A name no YAML declares gets the defaults.
public struct SharedDictConfiguration: Sendable, Equatable {
    public var maxEntries: Int = 10_000
    public var maxBytes: Int = 1024 * 1024
    public init() {}
}
