import LuxyConfig
import NIOCore
import NIOHTTP1

/// A route's own changes to what passes through it: fields set or removed on the request
/// (after the stages, before the upstream) and on the response (once its head is known,
/// local replies included, before the response stages, as Envoy's router does), and its own
/// upstream timeout. Made once per generation; most routes have none (`RouteMatch.edits` nil).
public struct RouteEdits: Sendable {
    public let requestHeadersToAdd: [HeaderToAdd]
    public let requestHeadersToRemove: [String]
    public let responseHeadersToAdd: [HeaderToAdd]
    public let responseHeadersToRemove: [String]
    public let timeout: TimeAmount?

    /// nil when the route changes nothing.
    init?(_ route: RouteConfiguration) {
        changesRequest = !route.requestHeadersToAdd.isEmpty || !route.requestHeadersToRemove.isEmpty
        changesResponse = !route.responseHeadersToAdd.isEmpty || !route.responseHeadersToRemove.isEmpty
        guard changesRequest || changesResponse || route.timeoutMilliseconds != nil else { return nil }
        requestHeadersToAdd = route.requestHeadersToAdd
        requestHeadersToRemove = route.requestHeadersToRemove
        responseHeadersToAdd = route.responseHeadersToAdd
        responseHeadersToRemove = route.responseHeadersToRemove
        timeout = route.timeoutMilliseconds.map { .milliseconds(Int64($0)) }
    }

    func applyToRequest(_ headers: inout HTTPHeaders) {
        Self.apply(remove: requestHeadersToRemove, add: requestHeadersToAdd, to: &headers)
    }

    /// The route sets or removes request fields; response fields. Read on every request that
    /// may go on as bytes: taken once, with the route.
    public let changesRequest: Bool
    public let changesResponse: Bool

    func applyToResponse(_ headers: inout HTTPHeaders) {
        Self.apply(remove: responseHeadersToRemove, add: responseHeadersToAdd, to: &headers)
    }

    private static func apply(remove: [String], add: [HeaderToAdd], to headers: inout HTTPHeaders) {
        for name in remove { headers.remove(name: name) }
        for field in add {
            if field.overwrite {
                headers.replaceOrAdd(name: field.name, value: field.value)
            } else {
                headers.add(name: field.name, value: field.value)
            }
        }
    }
}
