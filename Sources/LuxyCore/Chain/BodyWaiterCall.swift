import NIOCore

/// The completion of a stage waiting for a whole body: told the body, or why it cannot have it.
typealias BodyWaiter = (Result<ByteBuffer?, HTTPExchange.BodyError>) -> Void

/// A stage's wait for a body, ended: made by the exchange once the buffer's change is over.
struct BodyWaiterCall {
    let waiter: BodyWaiter
    let result: Result<ByteBuffer?, HTTPExchange.BodyError>

    func run() { waiter(result) }
}
