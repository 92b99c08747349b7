import LuxyConfig

/// What a script's top-level `schema = { ... }` turned out to be. Immutable; Sendable.
public enum DeclaredSchema: Sendable {
    case parsed(ConfigSchema)
    /// Not a schema luxy understands: the script's fault, reported at the script.
    case malformed(ConfigSchemaError)
}
