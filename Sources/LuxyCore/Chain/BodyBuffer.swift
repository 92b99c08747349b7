import NIOCore

/// The part of one message body that arrived while nothing could forward it yet, and the
/// waiter of a stage that asked for the whole body.
///
/// A value its exchange holds inline (no object per body per request). A change that ends
/// the wait does not call the waiter: it returns the call (`BodyWaiterCall`), which the
/// exchange makes once the change is over (`HTTPExchange.changeBody`). The waiter may come
/// straight back into the exchange and touch this buffer, which must then not be in the
/// middle of a change.
struct BodyBuffer {
    var hasBody = false
    private(set) var buffered: ByteBuffer?
    private(set) var isComplete = false
    /// Set once a stage asked for the body: from then on it is kept whole, not streamed.
    private(set) var isWanted = false
    /// Set once a waiting stage was failed because the body grew (or was declared) over its limit.
    private(set) var overflowed = false
    /// A stage set the body: what the head declared no longer describes it.
    private(set) var wasReplaced = false
    private var waiter: BodyWaiter?
    private var limit = Int.max

    var bufferedBytes: Int { buffered?.readableBytes ?? 0 }

    /// A stage waits for the whole body and it grew over the limit (the waiter was failed).
    var isOverLimit: Bool { isWanted && bufferedBytes > limit }

    /// What a stage asking for the body gets: nil for a message without one.
    private var whole: ByteBuffer? { hasBody || buffered != nil ? (buffered ?? ByteBuffer()) : nil }

    /// Adds a part; over the limit while a stage waits (`isOverLimit`), that stage's failure.
    mutating func append(_ part: ByteBuffer) -> BodyWaiterCall? {
        if buffered == nil {
            buffered = part
        } else {
            var part = part
            buffered!.writeBuffer(&part)
        }
        guard isOverLimit else { return nil }
        overflowed = true
        return endWait(.failure(.tooLarge(limit: limit)))
    }

    mutating func complete() -> BodyWaiterCall? {
        isComplete = true
        return endWait(.success(whole))
    }

    mutating func abort() -> BodyWaiterCall? {
        endWait(.failure(.aborted))
    }

    /// A stage asks for the whole body: answered at once when it is here (or over the limit
    /// already), else when it completes.
    mutating func whenComplete(limit: Int, _ completion: @escaping BodyWaiter) -> BodyWaiterCall? {
        isWanted = true
        self.limit = limit
        if bufferedBytes > limit {
            overflowed = true
            return BodyWaiterCall(waiter: completion, result: .failure(.tooLarge(limit: limit)))
        }
        if isComplete || !hasBody { return BodyWaiterCall(waiter: completion, result: .success(whole)) }
        waiter = completion
        return nil
    }

    /// A body declared larger than `limit` is refused before any of it is read.
    mutating func refuse(limit: Int, _ completion: @escaping BodyWaiter) -> BodyWaiterCall? {
        self.limit = limit
        overflowed = true
        return BodyWaiterCall(waiter: completion, result: .failure(.tooLarge(limit: limit)))
    }

    mutating func replace(with body: ByteBuffer) {
        wasReplaced = true
        buffered = body
        hasBody = true
    }

    /// Hands what is buffered to a stage that streams the body from now on: the end, if it
    /// came, is the stream's to pass on again (then `complete()` is called once more).
    mutating func handOver() -> HandedOverBody {
        let ended = isComplete || !hasBody
        isComplete = false
        return HandedOverBody(buffered: take(), ended: ended)
    }

    /// Hands over what is buffered, for forwarding.
    mutating func take() -> ByteBuffer? {
        defer { buffered = nil }
        return buffered
    }

    private mutating func endWait(_ result: Result<ByteBuffer?, HTTPExchange.BodyError>) -> BodyWaiterCall? {
        guard let waiter else { return nil }
        self.waiter = nil
        return BodyWaiterCall(waiter: waiter, result: result)
    }
}
