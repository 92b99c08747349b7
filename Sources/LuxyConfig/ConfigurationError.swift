/// Everything wrong with a config file, each with its place. Reported all at once so a user
/// fixes a file in one pass rather than one error per run.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var location: SourceLocation?
        public var message: String
        public init(location: SourceLocation?, message: String) {
            self.location = location
            self.message = message
        }
        public var description: String {
            if let location { return "\(location): \(message)" }
            return message
        }
    }

    public var problems: [Problem]
    public init(problems: [Problem]) { self.problems = problems }
    public init(_ message: String, at location: SourceLocation? = nil) {
        self.problems = [Problem(location: location, message: message)]
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
