import NIOCore
import NIOHTTP1

/// The connection's one timer and what it bounds: the client's next request (idle), an
/// unfinished request head (408), a request body that stopped coming (408, or a cut once the
/// answer began), a response stuck on a client that does not read (close), and the upstream
/// request timeout (504). Moving between these only stores a time (`ConnectionDeadlines`).
extension HTTPProxyHandler {
    // MARK: What the client did

    /// A request part was parsed: the client's wait moves on.
    func clientSent(_ part: HTTPServerRequestPart, at now: NIODeadline) {
        switch part {
        case .head, .body: deadlines.client = .requestBody(lastRead: now)
        case .end:
            // Answered already (an answer from the head alone), the connection waits for the
            // next request; else for the answer, which the client does not owe.
            deadlines.client = driver == nil ? .nextRequest(since: now) : .nothing
        }
    }

    /// A read brought bytes but no part. After a complete request (answered, or still in
    /// flight with this one pipelined behind it) that is the start of a head: its clock
    /// starts (a head that came whole in one read never arms anything).
    func bytesWithoutAPart(at now: NIODeadline) {
        guard deadlines.timeouts.requestHeader != nil else { return }
        switch deadlines.client {
        case .nextRequest, .nothing:
            deadlines.client = .requestHead(since: now)
            armTimer()
        case .requestHead, .requestBody:
            return
        }
    }

    /// An answer went out: unless the client is still sending its request, the connection
    /// now waits for the next one.
    func answerEnded(at now: NIODeadline) {
        switch deadlines.client {
        case .nothing, .nextRequest: deadlines.client = .nextRequest(since: now)
        case .requestHead, .requestBody: break
        }
    }

    /// The connection stopped (or started again) being writable: while it is not, a response
    /// waits on the client, bounded by the send timeout.
    func sendStalled(_ stalled: Bool, at now: NIODeadline) {
        guard deadlines.timeouts.send != nil else { return }
        if !stalled {
            deadlines.sendStalledSince = nil
        } else if deadlines.sendStalledSince == nil {
            deadlines.sendStalledSince = now
            armTimer()
        }
    }

    // MARK: The upstream

    /// The exchange waits on its upstream until `deadline`; then it gets a 504.
    func armUpstreamDeadline(_ deadline: NIODeadline) {
        deadlines.upstream = deadline
        armTimer()
    }

    func clearUpstreamDeadline() {
        deadlines.upstream = nil
    }

    // MARK: The timer

    func armTimer() {
        // An h2 stream's deadlines are checked by its connection's timer.
        if let streamDeadlines {
            if let upstream = deadlines.upstream { streamDeadlines.check(by: upstream) }
            return
        }
        guard let context else { return }
        deadlines.arm(on: context.eventLoop, handler: self)
    }

    /// When this h2 stream's exchange stops waiting on its upstream (a 504).
    var upstreamDeadline: NIODeadline? { deadlines.upstream }

    /// The connection's check found this h2 stream's upstream deadline passed.
    func upstreamDeadlinePassed() {
        deadlines.upstream = nil
        driver?.upstreamTimedOut()
    }

    func deadlineReached() {
        deadlines.timerFired()
        let now = loop.clock.now
        switch deadlines.expired(at: now) {
        case .upstream:
            deadlines.upstream = nil
            driver?.upstreamTimedOut()
        case .send:
            return sendTimedOut()
        case .idle:
            // A request read whole and still being answered (pipelined behind another) is
            // not idleness: the upstream's timeout bounds it instead.
            guard driver == nil, pipelined.isEmpty else {
                deadlines.client = .nextRequest(since: now)
                break
            }
            closeConnection()
            return
        case .requestHead:
            guard driver == nil, pipelined.isEmpty else {
                // A head stalled behind requests still being answered: those answers go out
                // (in order, so no 408 can come first), then the connection closes.
                loop.stats.increment("downstream_request_header_timeout")
                closeAfterThisResponse()
                deadlines.client = .nothing
                break
            }
            return requestHeadTimedOut()
        case .requestBody:
            // Reads withheld by this side (a slow upstream, a stage holding the body) do not
            // count against the client.
            guard !readsWithheld else {
                deadlines.client = .requestBody(lastRead: now)
                break
            }
            return requestBodyTimedOut()
        case nil:
            break
        }
        armTimer()
    }

    // MARK: Expiries

    /// nginx's `client_header_timeout`: 408 and close.
    private func requestHeadTimedOut() {
        loop.stats.increment("downstream_request_header_timeout")
        persistence = .closeAfterResponse
        pipelined.removeAll()
        writeLocalReply(LocalReply.error(.requestTimeout, "request header timeout", close: true))
    }

    /// nginx's `client_body_timeout`: the exchange ends (its upstream request is abandoned),
    /// the client gets a 408 if nothing was answered yet, and the connection closes.
    private func requestBodyTimedOut() {
        loop.stats.increment("downstream_request_body_timeout")
        // An answer begun (or sent early), or requests queued ahead of the 408, leave no room
        // for one: the connection is cut.
        let mayAnswer = !responseInProgress && reading != .bodyAfterAnswer && pipelined.isEmpty
        driver?.abort()
        driver = nil
        pipelined.removeAll()
        guard mayAnswer else {
            closeConnection()
            return
        }
        persistence = .closeAfterResponse
        writeLocalReply(LocalReply.error(.requestTimeout, "request body timeout", close: true))
    }

    /// An h2 stream without a frame either way for the stream idle timeout (Envoy's
    /// `stream_idle_timeout`): the exchange ends (its upstream request abandoned); a 408 if
    /// nothing was answered yet, and the stream is reset (RST_STREAM CANCEL) unless that
    /// answer ended it.
    func streamIdleTimedOut() {
        loop.stats.increment("downstream_http2_stream_idle_timeout")
        let mayAnswer = !responseInProgress && reading != .bodyAfterAnswer
        driver?.abort()
        driver = nil
        if mayAnswer {
            writeLocalReply(LocalReply.error(.requestTimeout, "stream idle timeout"))
            // The request ended too: the 408's END_STREAM closed the stream.
            if reading == .complete { return }
        }
        closeConnection()
    }

    /// nginx's `send_timeout`: the client reads nothing; the connection closes and the
    /// exchange feeding it lets its upstream go.
    private func sendTimedOut() {
        loop.stats.increment("downstream_send_timeout")
        deadlines.sendStalledSince = nil
        driver?.abort()
        driver = nil
        pipelined.removeAll()
        closeConnection()
    }
}

extension HTTPProxyHandler: NIOScheduledCallbackHandler {
    /// The connection's one timer (`ConnectionDeadlines`) came due.
    func handleScheduledCallback(eventLoop: some EventLoop) {
        deadlineReached()
    }
}
