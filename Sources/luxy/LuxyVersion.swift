/// The version `luxy --version` prints. Set here, by hand, when a release is cut.
enum LuxyVersion {
    static let current = "0.1.0"
}
