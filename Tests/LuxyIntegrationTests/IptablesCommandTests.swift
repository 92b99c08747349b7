import Foundation
import XCTest

/// `luxy iptables` as the init container runs it: flags only, the rules printed by default,
/// bad flags refused with a message and a non-zero exit. (Applying and cleaning run for
/// real in TransparentCaptureTests.)
final class IptablesCommandTests: XCTestCase {
    private let runner = LuxyCommandRunner(workingDirectory: FileManager.default.temporaryDirectory.path)

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: BuiltLuxyBinary.path) else {
            throw XCTSkip("\(BuiltLuxyBinary.path) is not built")
        }
    }

    func testPrintsTheRulesItWouldApply() throws {
        let printed = try runner.run(["iptables", "--exclude-inbound-ports", "22,15090", "--ipv6"])
        XCTAssertEqual(printed.status, 0, printed.all)
        XCTAssertTrue(printed.stdout.hasPrefix("# iptables-restore --noflush\n*nat\n"), printed.stdout)
        XCTAssertTrue(printed.stdout.contains("-A LUXY_INBOUND -p tcp --dport 15090 -j RETURN\n"), printed.stdout)
        XCTAssertTrue(printed.stdout.contains("# ip6tables-restore --noflush\n"), printed.stdout)
        XCTAssertTrue(printed.stdout.contains("-A LUXY_OUTPUT -d ::1/128 -j RETURN\n"), printed.stdout)
    }

    func testBadFlagsAreRefusedWithTheReason() throws {
        let port = try runner.run(["iptables", "--exclude-outbound-ports", "80,http"])
        XCTAssertNotEqual(port.status, 0)
        XCTAssertTrue(port.stderr.contains("--exclude-outbound-ports: 'http' is not a port"), port.all)
        let cidr = try runner.run(["iptables", "--apply", "--exclude-outbound-cidrs", "10.0.0.0/40"])
        XCTAssertNotEqual(cidr.status, 0)
        XCTAssertTrue(cidr.stderr.contains("'10.0.0.0/40' is not an address or CIDR"), cidr.all)
        let both = try runner.run(["iptables", "--apply", "--clean"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("give --apply or --clean, not both"), both.all)
    }
}
