import LuxyConfig
import LuxyCore
import LuxyLua
import NIOHTTP1

/// A request's or response's headers, body and trailers as a test gives them (and as the
/// stages leave them). A value, used on the harness's loop; the exchange holds the live copy.
struct TestHTTPMessage {
    var headers = HTTPHeaders()
    /// nil: the message has no body.
    var body: [UInt8]?
    /// The body as the chunks `bodyChunks()` sees, when the test gave it as a list.
    var bodyChunks: [[UInt8]]?
    var trailers: HTTPHeaders?
}

/// The request a test sends through a plugin or chain, with the stream facts around it. A
/// value, read from the test on the harness's loop.
struct TestHTTPRequest {
    var method = "GET"
    var path = "/"
    var authority = "example.com"
    var scheme = "http"
    var message = TestHTTPMessage()
    var source = "10.0.0.1:40000"
    var destination = "10.0.0.2:8080"
    var protocolName = "HTTP/1.1"
    var direction = "inbound"
    var routeName: String?
    var service: String?
    var cluster: String?
    var upstream: String?
    var routeMetadata = ConfigValue.map([])
    var filterContext: ConfigValue?
    var ssl: LuaSSLInfo?
    var calls = ScriptedCalls()
    /// What the upstream answers; the response phases run on it.
    var upstreamAnswer = TestUpstreamAnswer.response(TestHTTPResponse(status: 200))
}

/// How the upstream answers a test request: a response, or a failure the proxy answers
/// itself for (503 for no connection, 504 for a timeout) with the response flag it sets. A value.
enum TestUpstreamAnswer {
    case response(TestHTTPResponse)
    case failure(UpstreamError)
}

/// A response: the upstream's scripted one, a local reply, or what the client gets. A value.
struct TestHTTPResponse {
    var status: Int
    var message = TestHTTPMessage()
}
