/// Which sides of a relayed connection pair stopped sending: half-closed their output, or
/// went. A relay reads a side only while it still sends, shuts the other side's output when
/// it stops, and is over when both stopped.
///
/// A value held by one relay (`TCPProxySession`, `HTTPUpgradeTunnel`), on its loop.
struct EndedInputs: OptionSet {
    let rawValue: UInt8

    static let downstream = EndedInputs(rawValue: 1 << 0)
    static let upstream = EndedInputs(rawValue: 1 << 1)
    static let both: EndedInputs = [.downstream, .upstream]

    init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    init(_ side: TCPSide) {
        self = side == .downstream ? .downstream : .upstream
    }

    /// Whether `side` still sends.
    func isOpen(_ side: TCPSide) -> Bool {
        !contains(EndedInputs(side))
    }

    /// Records that `side` stopped sending: false when it had already.
    mutating func end(_ side: TCPSide) -> Bool {
        insert(EndedInputs(side)).inserted
    }
}
