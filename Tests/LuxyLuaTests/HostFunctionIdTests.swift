import CLuaShims
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

    /// The C side decodes a handle (a light userdata) as an object of this kind.
    func testTheCSideKnowsTheHandlesKind() {
        XCTAssertEqual(LuaObjectKind.handle.rawValue, LUXY_OBJECT_KIND_HANDLE)
    }

    /// A handle answers for its phase's header map and stream info (`headers()` and
    /// `streamInfo()` hand back the handle): one method table holds all three, so a name two
    /// of them shared would hide one method behind the other.
    func testTheHandleTableHasEachNameOnce() {
        let names = LuaMethod.handleMethods.filter { !$0.isMetamethod }.map(\.luaName)
        XCTAssertEqual(names.count, Set(names).count, "names: \(names.sorted())")
        XCTAssertTrue(LuaMethod.handleMethods.contains(.headerGet))
        XCTAssertTrue(LuaMethod.handleMethods.contains(.infoResponseCode))
        XCTAssertTrue(LuaMethod.handleMethods.contains(.headerPairs))
        XCTAssertFalse(LuaMethod.handleMethods.contains(.headerIterationEnded))
        XCTAssertFalse(LuaMethod.handleMethods.contains(.metadataGet))
    }
}
