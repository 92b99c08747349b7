import Foundation
import XCTest

/// A CLI test of what `luxy check` reports, with a fresh `LuxyCommandFolder` per test, skipped
/// when `luxy` is not built.
class CheckCommandTestCase: XCTestCase {
    var folder: LuxyCommandFolder!

    override func setUpWithError() throws {
        folder = try LuxyCommandFolder("luxy-check")
    }

    override func tearDownWithError() throws {
        folder?.remove()
    }
}
