/// How one test ended. Sendable: it leaves the harness's loop for the command to print.
public struct PluginTestCaseResult: Sendable {
    /// The test file as given (relative paths stay relative).
    public var file: String
    /// The `describe` names and the `it` name, joined with spaces.
    public var name: String
    public var passed: Bool
    /// The failing assertion or error; nil when the test passed.
    public var message: String?
    /// The line of the failure in the test file (or of the `it` when it passed).
    public var line: Int
    public var seconds: Double

    /// `ok …` or `FAIL file:line …`: the line `luxy test` prints.
    public var summaryLine: String {
        passed ? "ok    \(file): \(name)" : "FAIL  \(file):\(line): \(name): \(message ?? "failed")"
    }
}
