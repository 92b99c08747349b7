/// Whether a `pairs()` loop over a header map of the running phase is open. Envoy keeps the
/// iterator from `pairs()` until it returns nil, and while it exists the map refuses
/// changes; a loop left with `break` keeps it until the phase ends. Luxy does the same.
enum LuaHeaderIteration {
    case idle
    case inProgress
}
