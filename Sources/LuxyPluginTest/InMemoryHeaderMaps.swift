import LuxyCore
import LuxyLua
import NIOHTTP1

/// Request headers with `:method`, `:path`, `:scheme`, `:authority` first, as the proxy's
/// `RequestHeaderMap` shows them; writes go to the exchange. A view, used on the harness's loop.
struct InMemoryRequestHeaders: LuaHeaderMap {
    let exchange: InMemoryExchange
    /// The stage's `clear_route_cache`: a change to `:path`, `:authority` or `:method` has the
    /// route chosen again only when it is on (the default).
    let clearsRouteCache: Bool

    func get(_ name: String) -> String? {
        guard name.hasPrefix(":") else { return exchange.request.headers.joinedValue(name) }
        switch name.lowercased() {
        case ":method": return exchange.method
        case ":path": return exchange.path
        case ":authority": return exchange.authority
        case ":scheme": return exchange.scheme
        default: return nil
        }
    }

    func values(_ name: String) -> [String] {
        if name.hasPrefix(":") { return get(name).map { [$0] } ?? [] }
        return exchange.request.headers[name]
    }

    func add(_ name: String, _ value: String) {
        if name.hasPrefix(":") { return replace(name, value) }
        exchange.request.headers.add(name: name, value: value)
    }

    func replace(_ name: String, _ value: String) {
        switch name.lowercased() {
        case ":method": exchange.method = value
        case ":path": exchange.path = value
        case ":authority": exchange.authority = value
        case ":scheme": return
        default: return exchange.request.headers.replaceOrAdd(name: name, value: value)
        }
        if clearsRouteCache { exchange.routeCleared = true }
    }

    func remove(_ name: String) {
        if name.hasPrefix(":") { return }
        exchange.request.headers.remove(name: name)
    }

    func entries() -> [(String, String)] {
        [(":method", exchange.method), (":path", exchange.path), (":scheme", exchange.scheme),
         (":authority", exchange.authority)]
            + exchange.request.headers.map { ($0.name.lowercased(), $0.value) }
    }
}

/// Response headers with `:status` first. A view, used on the harness's loop.
struct InMemoryResponseHeaders: LuaHeaderMap {
    let exchange: InMemoryExchange

    func get(_ name: String) -> String? {
        if name.hasPrefix(":") {
            return name.lowercased() == ":status" ? exchange.responseStatus.map { String($0.code) } : nil
        }
        return exchange.response.headers.joinedValue(name)
    }

    func values(_ name: String) -> [String] {
        if name.hasPrefix(":") { return get(name).map { [$0] } ?? [] }
        return exchange.response.headers[name]
    }

    func add(_ name: String, _ value: String) {
        if name.hasPrefix(":") { return replace(name, value) }
        exchange.response.headers.add(name: name, value: value)
    }

    func replace(_ name: String, _ value: String) {
        if name.lowercased() == ":status" {
            if let code = Int(value) { exchange.responseStatus = HTTPResponseStatus(statusCode: code) }
            return
        }
        if name.hasPrefix(":") { return }
        exchange.response.headers.replaceOrAdd(name: name, value: value)
    }

    func remove(_ name: String) {
        exchange.response.headers.remove(name: name)
    }

    func setReasonPhrase(_ phrase: String) {
        guard let code = exchange.responseStatus?.code else { return }
        exchange.responseStatus = .custom(code: code, reasonPhrase: phrase)
    }

    func entries() -> [(String, String)] {
        guard let status = exchange.responseStatus else { return [] }
        return [(":status", String(status.code))] + exchange.response.headers.map { ($0.name.lowercased(), $0.value) }
    }
}

/// The trailers of one phase. A view, used on the harness's loop.
struct InMemoryTrailers: LuaHeaderMap {
    let exchange: InMemoryExchange
    let phase: LuaHTTPPhase

    private func edit(_ change: (inout HTTPHeaders) -> Void) {
        exchange.update(phase) { message in
            var trailers = message.trailers ?? HTTPHeaders()
            change(&trailers)
            message.trailers = trailers
        }
    }

    private var trailers: HTTPHeaders { exchange.message(phase).trailers ?? HTTPHeaders() }

    func get(_ name: String) -> String? { trailers.joinedValue(name) }
    func values(_ name: String) -> [String] { trailers[name] }
    func add(_ name: String, _ value: String) { edit { $0.add(name: name, value: value) } }
    func replace(_ name: String, _ value: String) { edit { $0.replaceOrAdd(name: name, value: value) } }
    func remove(_ name: String) { edit { $0.remove(name: name) } }
    func entries() -> [(String, String)] { trailers.map { ($0.name.lowercased(), $0.value) } }
}
