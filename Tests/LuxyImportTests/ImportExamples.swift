import Foundation

/// The example EnvoyFilters in `examples/envoyfilter-import/`, read from the repository.
enum ImportExamples {
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("examples/envoyfilter-import").path
    }()

    static func path(_ name: String) -> String { directory + "/" + name }
}
