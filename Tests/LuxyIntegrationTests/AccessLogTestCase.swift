import XCTest

/// An integration test whose scripts write access-log lines: each test gets a file of its own
/// (`log.path`), removed after it.
class AccessLogTestCase: IntegrationTestCase {
    private(set) var log: ScratchAccessLog!

    override func setUp() async throws {
        try await super.setUp()
        log = ScratchAccessLog()
    }

    override func tearDown() async throws {
        log?.remove()
        try await super.tearDown()
    }
}
