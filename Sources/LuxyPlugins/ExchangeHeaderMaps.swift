import LuxyCore
import LuxyLua
import NIOHTTP1

/// Request headers as Envoy shows them to Lua: `:method`, `:path`, `:authority`, `:scheme`
/// first, then the fields. Writes go straight to the exchange's request head. A view, made
/// when a script asks: a struct, so it costs no allocation.
///
/// The exchange is held unowned, as in `ResponseHeaderMap`: a map is made by the request's
/// bound `ExchangeLuaHost`, which holds the exchange, and kept at most by the phase run it was
/// made for, which lets go of it when it ends, before the host is unbound. A strong reference
/// cost a retain and a release on every copy of the map, one or two per header method.
struct RequestHeaderMap: LuaHeaderMap {
    private unowned(unsafe) let exchange: HTTPExchange
    /// A change to a field routing reads has the route chosen again (`clear_route_cache`).
    private let clearsRouteCache: Bool

    init(exchange: HTTPExchange, clearsRouteCache: Bool) {
        self.exchange = exchange
        self.clearsRouteCache = clearsRouteCache
    }

    func get(_ name: String) -> String? {
        // Field names are looked up case-insensitively as they are.
        guard let pseudo = RequestPseudoHeader(name) else {
            return name.namesPseudoHeader ? nil : exchange.requestHead.headers.joinedValue(name)
        }
        switch pseudo {
        case .method: return exchange.requestHead.method.rawValue
        case .path: return exchange.requestHead.uri
        case .authority: return exchange.requestHead.headers.first(name: "host")
        case .scheme: return "http"
        }
    }

    func values(_ name: String) -> [String] {
        if name.namesPseudoHeader { return get(name).map { [$0] } ?? [] }
        return exchange.requestHead.headers[name]
    }

    func add(_ name: String, _ value: String) {
        if name.namesPseudoHeader { return replace(name, value) }
        exchange.requestHead.headers.add(name: name, value: value)
        if clearsRouteCache { exchange.requestFieldChanged(name) }
    }

    func replace(_ name: String, _ value: String) {
        if clearsRouteCache { exchange.requestFieldChanged(name) }
        switch RequestPseudoHeader(name) {
        case .method: exchange.requestHead.method = HTTPMethod(rawValue: value)
        case .path: exchange.requestHead.uri = value
        case .authority: exchange.requestHead.headers.replaceOrAdd(name: "host", value: value)
        case .scheme: break
        case nil: exchange.requestHead.headers.replaceOrAdd(name: name, value: value)
        }
    }

    func remove(_ name: String) {
        if name.namesPseudoHeader { return }
        exchange.requestHead.headers.remove(name: name)
        if clearsRouteCache { exchange.requestFieldChanged(name) }
    }

    func entries() -> [(String, String)] {
        var entries: [(String, String)] = [
            (":method", exchange.requestHead.method.rawValue), (":path", exchange.requestHead.uri),
            (":scheme", "http"),
        ]
        if let host = exchange.requestHead.headers.first(name: "host") { entries.append((":authority", host)) }
        for (name, value) in exchange.requestHead.headers where name.lowercased() != "host" {
            entries.append((name.lowercased(), value))
        }
        return entries
    }
}

/// The request pseudo-headers Envoy shows, named in any case, told apart without lowercasing
/// the name (a log format reads `:method`, `:path` and `:authority` on every request).
private enum RequestPseudoHeader {
    case method, path, authority, scheme

    init?(_ name: String) {
        guard name.namesPseudoHeader else { return nil }
        if name.equalsIgnoringASCIICase(":method") { self = .method }
        else if name.equalsIgnoringASCIICase(":path") { self = .path }
        else if name.equalsIgnoringASCIICase(":authority") { self = .authority }
        else if name.equalsIgnoringASCIICase(":scheme") { self = .scheme }
        else { return nil }
    }
}

/// Response headers with `:status` first. Before a response exists (never, in practice:
/// the response phase runs once a head is there) reads are empty and writes are dropped.
struct ResponseHeaderMap: LuaHeaderMap {
    /// Unowned: see `RequestHeaderMap`.
    private unowned(unsafe) let exchange: HTTPExchange

    init(exchange: HTTPExchange) { self.exchange = exchange }

    func get(_ name: String) -> String? {
        guard let head = exchange.responseHead else { return nil }
        if name.namesPseudoHeader {
            return name.equalsIgnoringASCIICase(":status") ? String(head.status.code) : nil
        }
        return head.headers.joinedValue(name)
    }

    func values(_ name: String) -> [String] {
        if name.equalsIgnoringASCIICase(":status") { return get(name).map { [$0] } ?? [] }
        return exchange.responseHead?.headers[name] ?? []
    }

    func add(_ name: String, _ value: String) {
        if name.namesPseudoHeader { return replace(name, value) }
        exchange.responseHead?.headers.add(name: name, value: value)
    }

    func replace(_ name: String, _ value: String) {
        if name.equalsIgnoringASCIICase(":status") {
            if let code = Int(value) { exchange.responseHead?.status = HTTPResponseStatus(statusCode: code) }
            return
        }
        if name.namesPseudoHeader { return }
        exchange.responseHead?.headers.replaceOrAdd(name: name, value: value)
    }

    func remove(_ name: String) {
        exchange.responseHead?.headers.remove(name: name)
    }

    /// Kept on the status only HTTP/1.1 writes; h2 has no reason phrase.
    func setReasonPhrase(_ phrase: String) {
        guard let code = exchange.responseHead?.status.code else { return }
        exchange.responseHead?.status = .custom(code: code, reasonPhrase: phrase)
    }

    func entries() -> [(String, String)] {
        guard let head = exchange.responseHead else { return [] }
        return [(":status", String(head.status.code))] + head.headers.map { ($0.name.lowercased(), $0.value) }
    }
}

/// Trailers of one phase.
final class TrailerMap: LuaHeaderMap {
    private let exchange: HTTPExchange
    private let phase: LuaHTTPPhase

    init(exchange: HTTPExchange, phase: LuaHTTPPhase) {
        self.exchange = exchange
        self.phase = phase
    }

    private var trailers: HTTPHeaders {
        get { (phase == .request ? exchange.requestTrailers : exchange.responseTrailers) ?? HTTPHeaders() }
        set {
            if phase == .request { exchange.requestTrailers = newValue } else { exchange.responseTrailers = newValue }
        }
    }

    func get(_ name: String) -> String? { trailers.joinedValue(name) }
    func values(_ name: String) -> [String] { trailers[name] }
    func add(_ name: String, _ value: String) { trailers.add(name: name, value: value) }
    func replace(_ name: String, _ value: String) { trailers.replaceOrAdd(name: name, value: value) }
    func remove(_ name: String) { trailers.remove(name: name) }
    func entries() -> [(String, String)] { trailers.map { ($0.name.lowercased(), $0.value) } }
}

extension String {
    /// A pseudo-header name (`:path`, `:status`): told by its first byte, as header maps
    /// check on every add, replace and remove.
    fileprivate var namesPseudoHeader: Bool { utf8.first == UInt8(ascii: ":") }
}
