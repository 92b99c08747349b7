/// What `RequestHeadParser` learned of a request head's fields as it read them, handed to the
/// connection handler with the head so that nothing scans the fields again for it: the
/// framing (`RequestFraming`), the survey the edge checks go by (`RequestHeadValidator`),
/// and whether the connection stays open. They travel with the head when it waits behind
/// another (`HTTPProxyHandler.PipelinedPart`). A head read by NIO's decoder comes without: its
/// fields are scanned for them.
///
/// A value made and read on one loop.
struct RequestHeadFacts {
    var framing: RequestFraming
    var fields: RequestHeadValidator.FieldSurvey
    /// Neither `connection: close` nor HTTP/1.0 without `connection: keep-alive`.
    var keepAlive: Bool
    /// The head's bytes, when it may go upstream as it came.
    var asItCame: RequestHeadAsItCame?
}
