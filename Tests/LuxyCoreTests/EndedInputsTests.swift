import XCTest

@testable import LuxyCore

/// A relay shuts the other side's output once per side that stops sending, and is over when
/// both stopped: a repeated end must not count again.
final class EndedInputsTests: XCTestCase {
    func testEachSideEndsOnceAndBothEndTheRelay() {
        var ended: EndedInputs = []
        XCTAssertTrue(ended.isOpen(.downstream))
        XCTAssertTrue(ended.isOpen(.upstream))

        XCTAssertTrue(ended.end(.upstream), "the first end of a side is news")
        XCTAssertFalse(ended.end(.upstream), "a second end of the same side is not")
        XCTAssertFalse(ended.isOpen(.upstream))
        XCTAssertTrue(ended.isOpen(.downstream))
        XCTAssertNotEqual(ended, .both)

        XCTAssertTrue(ended.end(.downstream))
        XCTAssertEqual(ended, .both)
    }
}
