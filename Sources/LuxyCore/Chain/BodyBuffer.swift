import NIOCore

/// The part of one message body that arrived while nothing could forward it yet, and the
/// waiter of a stage that asked for the whole body.
///
/// A class, not a struct: the waiter it calls may come straight back into the exchange and
/// touch this buffer, which a mutating struct method would make an exclusivity violation.
final class BodyBuffer {
    var hasBody = false
    private(set) var buffered: ByteBuffer?
    private(set) var isComplete = false
    /// Set once a stage asked for the body: from then on it is kept whole, not streamed.
    private(set) var isWanted = false
    /// Set once a waiting stage was failed because the body grew (or was declared) over its limit.
    private(set) var overflowed = false
    /// A stage set the body: what the head declared no longer describes it.
    private(set) var wasReplaced = false
    private var waiter: ((Result<ByteBuffer?, HTTPExchange.BodyError>) -> Void)?
    private var limit = Int.max

    var bufferedBytes: Int { buffered?.readableBytes ?? 0 }

    /// Returns false when a stage waits for the body and it grew over the limit; the waiter
    /// has then been failed.
    func append(_ part: ByteBuffer) -> Bool {
        if buffered == nil {
            buffered = part
        } else {
            var part = part
            buffered!.writeBuffer(&part)
        }
        if isWanted, bufferedBytes > limit {
            overflowed = true
            failWaiter(.tooLarge(limit: limit))
            return false
        }
        return true
    }

    func complete() {
        isComplete = true
        if let waiter {
            self.waiter = nil
            waiter(.success(hasBody || buffered != nil ? (buffered ?? ByteBuffer()) : nil))
        }
    }

    func abort() {
        failWaiter(.aborted)
    }

    func whenComplete(limit: Int,
                               _ completion: @escaping (Result<ByteBuffer?, HTTPExchange.BodyError>) -> Void) {
        isWanted = true
        self.limit = limit
        if bufferedBytes > limit {
            overflowed = true
            completion(.failure(.tooLarge(limit: limit)))
        } else if isComplete || !hasBody {
            completion(.success(hasBody || buffered != nil ? (buffered ?? ByteBuffer()) : nil))
        } else {
            waiter = completion
        }
    }

    /// A body declared larger than `limit` is refused before any of it is read.
    func refuse(limit: Int, _ completion: (Result<ByteBuffer?, HTTPExchange.BodyError>) -> Void) {
        self.limit = limit
        overflowed = true
        completion(.failure(.tooLarge(limit: limit)))
    }

    func replace(with body: ByteBuffer) {
        wasReplaced = true
        buffered = body
        hasBody = true
    }

    /// Hands what is buffered to a stage that streams the body from now on: the end, if it
    /// came, is the stream's to pass on again (then `complete()` is called once more).
    func handOver() -> (buffered: ByteBuffer?, ended: Bool) {
        let ended = isComplete || !hasBody
        isComplete = false
        return (take(), ended)
    }

    /// Hands over what is buffered, for forwarding.
    func take() -> ByteBuffer? {
        defer { buffered = nil }
        return buffered
    }

    private func failWaiter(_ error: HTTPExchange.BodyError) {
        if let waiter {
            self.waiter = nil
            waiter(.failure(error))
        }
    }
}
