import Foundation

/// A file of its own for one test's access-log lines (`accessLog(path, …)`, logging-http's
/// `destination`), removed by the test's tearDown.
struct ScratchAccessLog {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-access-\(UUID().uuidString).log").path

    /// The lines written so far.
    var lines: [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
