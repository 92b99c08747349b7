import Foundation
import LuxyPlugins
import LuxyTestSupport
import NIOConcurrencyHelpers
import XCTest

/// The watcher itself, on real folders and inotify: a folder that appears after start-up is
/// watched however fast its parents and contents are made.
final class FileChangeWatcherTests: XCTestCase {
    /// `mkdir -p a/b/plugins` makes three folders in microseconds. A watcher that looks for
    /// the nearest existing folder and then watches it can watch `a` after `b` was made in
    /// it: `b` raised no event, so `plugins` was never watched and every later edit in it was
    /// lost (a reload test failed on CI this way). Repeated, because the gap is narrow.
    func testAFolderMadeWithItsParentsIsWatchedAndAnEditInItIsSeen() async throws {
        for attempt in 0..<30 {
            let root = FileManager.default.temporaryDirectory.path + "/luxy-watch-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let folder = root + "/a/b/plugins"
            let seen = NIOLockedValueBox<[String]>([])
            let watcher = try FileChangeWatcher(directories: [folder], debounce: .milliseconds(50)) { paths in
                seen.withLockedValue { $0.append(contentsOf: paths) }
            }
            defer { watcher.stop() }

            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            // The folder's appearance is reported (as a change of a parent of it). The debounce
            // is long beside `mkdir -p`, so the report follows the events of all three folders.
            let appeared = await waitUntil(timeout: .seconds(10)) { !seen.withLockedValue { $0.isEmpty } }
            XCTAssertTrue(appeared, "attempt \(attempt): the folders' creation was not reported")

            // Written after the report: by then the new folder must be watched itself.
            try "return {}\n".write(toFile: folder + "/edit.lua", atomically: true, encoding: .utf8)
            let edited = await waitUntil(timeout: .seconds(10)) {
                seen.withLockedValue { $0.contains(folder + "/edit.lua") }
            }
            XCTAssertTrue(edited, "attempt \(attempt): an edit in the folder made after start-up was lost")
            if !edited { return }
        }
    }
}
