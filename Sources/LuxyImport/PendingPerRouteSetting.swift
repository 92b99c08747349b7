/// A `LuaPerRoute` as read from a route patch, before the import knows the stage names: the
/// filter it names and a `source_codes` key are resolved once every filter was read, since
/// the route patch may come before the filter's own patch.
struct PendingPerRouteSetting: Sendable {
    enum Choice: Sendable {
        case disabled
        /// `name:`, a `source_codes` key of the filter.
        case namedSource(String)
        /// `source_code:`, already written as this script.
        case script(String)
        case stageScript
    }

    /// The key of `typed_per_filter_config`: the Envoy filter name.
    var filterName: String
    var target: String
    var choice: Choice
    var config: String?
    var place: InputPlace
}
