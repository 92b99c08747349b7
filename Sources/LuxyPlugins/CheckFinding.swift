import LuxyLua

/// Something `luxy check` reports beyond what stops a configuration from loading: a plugin
/// that can never run, a config that serves nothing. A plain value.
public struct CheckFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        /// Probably a mistake; the check still passes.
        case warning
        /// Certainly a mistake; the check fails.
        case error
    }

    public var severity: Severity
    /// Starts with `file:line:` where there is one.
    public var message: String

    public init(_ severity: Severity, _ message: String) {
        self.severity = severity
        self.message = message
    }

    public var description: String { "\(severity.rawValue): \(message)" }
}

/// What `ConfigurationSnapshot.inspect()` found, for `luxy check`. A plain value.
public struct CheckReport: Sendable {
    /// Every `require` the scripts' top-level code made: the `libraries:` list.
    public var requires: [LuaRequire] = []
    public var findings: [CheckFinding] = []

    public var hasErrors: Bool { findings.contains { $0.severity == .error } }
}
