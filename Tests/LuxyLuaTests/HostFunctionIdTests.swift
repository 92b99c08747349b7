import XCTest

@testable import LuxyLua

/// The trampoline carries one id per host function, and dispatch tries the three families in
/// turn: an id two families shared would call the wrong function.
final class HostFunctionIdTests: XCTestCase {
    func testTheThreeFamiliesOfHostFunctionsHaveDisjointIds() {
        let handleMethods = Set(LuaMethod.allCases.map(\.rawValue))
        let luxyFunctions = Set(LuxyMethod.allCases.map(\.rawValue))
        let moduleFunctions = Set(LuaModuleFunction.allCases.map(\.rawValue))
        XCTAssertEqual(handleMethods.intersection(luxyFunctions), [])
        XCTAssertEqual(handleMethods.intersection(moduleFunctions), [])
        XCTAssertEqual(luxyFunctions.intersection(moduleFunctions), [])
    }
}
