extension LuxyConfiguration {
    /// The configuration with every source location blanked. Two files that say the same
    /// thing — with comments added or keys moved — compare equal this way, so a reload that
    /// changes only where things are written builds no new generation.
    public func strippingLocations() -> LuxyConfiguration {
        var copy = self
        copy.listeners = listeners.map { listener in
            var listener = listener
            listener.location = .none
            listener.virtualHosts = listener.virtualHosts.map { vhost in
                var vhost = vhost
                vhost.stageOverrides = vhost.stageOverrides.mapValues { $0.strippingLocation() }
                vhost.routes = vhost.routes.map { route in
                    var route = route
                    route.location = .none
                    route.stageOverrides = route.stageOverrides.mapValues { $0.strippingLocation() }
                    return route
                }
                return vhost
            }
            return listener
        }
        copy.clusters = clusters.map { cluster in
            var cluster = cluster
            cluster.location = .none
            return cluster
        }
        copy.chains = chains.mapValues { stages in stages.map { $0.strippingLocation() } }
        return copy
    }
}

extension StageConfiguration {
    public func strippingLocation() -> StageConfiguration {
        var copy = self
        copy.location = .none
        copy.configLocations = ConfigValueLocations()
        return copy
    }
}

extension StageOverride {
    func strippingLocation() -> StageOverride {
        var copy = self
        copy.location = .none
        return copy
    }
}

extension SourceLocation {
    /// A blank location, for comparing content regardless of where it was written.
    public static let none = SourceLocation(file: "", line: 0, column: 0)
}
