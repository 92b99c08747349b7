/// A client that sends one request and reads its whole response, with memory it allocated up
/// front, so a round trip allocates nothing of its own.
protocol RequestClient: AnyObject {
    /// One request and its response; throws unless the response is a complete 200.
    func roundTrip() throws
    func close()
}
