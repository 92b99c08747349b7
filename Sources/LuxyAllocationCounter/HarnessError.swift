/// Why a run stopped. Built only on the failure path, so its allocation never lands in a count
/// that is reported.
struct HarnessError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
