import LuxyConfig
import NIOCore

// Routing by the connection's original destination, on a listener that restores it:
// virtual hosts matched by it, and a passthrough cluster swapped for the static cluster that
// lists it. Split from HTTPExchangeDriver.swift, which calls it when it routes.
extension HTTPExchangeDriver {
    /// The route for the request as it stands now.
    func routeRequest() -> RouteMatch? {
        let destination = exchange.peer.originalDestination
        guard var route = serving.router.route(exchange.requestHead, originalDestination: destination) else {
            return nil
        }
        if destination != nil, let name = route.clusterName,
           let cluster = generation.services.cluster(named: name, originalDestination: destination) {
            route.clusterName = cluster.config.name
        }
        return route
    }
}
