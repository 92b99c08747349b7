import Foundation

/// The `luxy` executable of the build these tests belong to: beside the test bundle, so a
/// build with any `--scratch-path` tests its own binary; else the default `.build/debug/luxy`.
enum BuiltLuxyBinary {
    static let path: String = {
        var candidates: [URL] = []
        let bundle = Bundle(for: Marker.self).bundleURL
        // macOS: …/debug/luxyPackageTests.xctest; Linux: the bundle URL is already …/debug.
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("luxy"))
        candidates.append(bundle.appendingPathComponent("luxy"))
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("luxy"))
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate.path
        }
        return repository.appendingPathComponent(".build/debug/luxy").path
    }()

    /// The package's root folder.
    static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    private final class Marker {}
}
