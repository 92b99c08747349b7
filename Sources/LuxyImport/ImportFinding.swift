/// One thing the importer wants the user to know about the input: something it only noted
/// (ignored on purpose, or mapped with an assumption) or Lua it could not carry over.
public struct ImportFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Equatable {
        /// Mapped with an assumption, or not Lua and so out of scope: the import still succeeds.
        case note
        /// Lua behaviour that did not make it into the output: the import exits 1.
        case notImported = "not imported"
    }

    public var severity: Severity
    public var place: InputPlace
    public var message: String

    public init(_ severity: Severity, at place: InputPlace, _ message: String) {
        self.severity = severity
        self.place = place
        self.message = message
    }

    /// `FILE:LINE:COL: note: doc 1: spec.workloadSelector: …`, so editors jump to the place.
    public var description: String {
        let prefix = place.location.map { "\($0): " } ?? ""
        return "\(prefix)\(severity.rawValue): \(place): \(message)"
    }
}

/// The findings of one import, in the order they were made.
struct FindingLog: Sendable {
    private(set) var findings: [ImportFinding] = []

    mutating func note(_ place: InputPlace, _ message: String) {
        findings.append(ImportFinding(.note, at: place, message))
    }

    mutating func notImported(_ place: InputPlace, _ message: String) {
        findings.append(ImportFinding(.notImported, at: place, message))
    }
}
