import Logging
import NIOConcurrencyHelpers

/// A log handler that keeps every line, so tests can assert what was logged.
public final class TestLogCapture: Sendable {
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]

        /// The message and its metadata on one line, for `contains` checks.
        public var line: String {
            ([message] + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
        }
    }

    private let entries = NIOLockedValueBox<[Entry]>([])

    public init() {}

    public var logger: Logger {
        Logger(label: "luxy.test") { _ in Handler(capture: self) }
    }

    public var all: [Entry] { entries.withLockedValue { $0 } }

    public func contains(_ text: String) -> Bool {
        all.contains { $0.line.contains(text) }
    }

    fileprivate func append(_ entry: Entry) {
        entries.withLockedValue { $0.append(entry) }
    }

    private struct Handler: LogHandler {
        let capture: TestLogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = self.metadata
            for (key, value) in event.metadata ?? [:] { merged[key] = value }
            capture.append(Entry(level: event.level, message: "\(event.message)",
                                 metadata: merged.mapValues { "\($0)" }))
        }
    }
}
