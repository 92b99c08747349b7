import NIOCore

// The two bodies' buffers, changed through here: a change that ends a stage's wait for a
// body returns that call, made once the change is over, because the stage may come straight
// back into the exchange and touch the same buffer.
extension HTTPExchange {
    /// Changes one body's buffer, then calls the waiter the change ended, if any.
    func changeBody(_ side: HTTPMessageSide, _ change: (inout BodyBuffer) -> BodyWaiterCall?) {
        let call = side == .request ? change(&request) : change(&response)
        call?.run()
    }

    /// Adds a part that arrived. False when a stage waits for the whole body and it grew over
    /// the limit: that stage was failed.
    func appendBody(_ side: HTTPMessageSide, _ part: ByteBuffer) -> Bool {
        changeBody(side) { $0.append(part) }
        return !(side == .request ? request.isOverLimit : response.isOverLimit)
    }

    func completeBody(_ side: HTTPMessageSide) {
        changeBody(side) { $0.complete() }
    }

    func abortBody(_ side: HTTPMessageSide) {
        changeBody(side) { $0.abort() }
    }
}
