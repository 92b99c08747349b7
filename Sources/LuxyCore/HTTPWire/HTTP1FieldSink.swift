/// Where `HTTP1FieldBlock.read` puts each field line it keeps, as the bytes of its name and
/// of its value (leading spaces dropped, trailing ones kept, as llhttp gives them). Generic,
/// so each reader is specialised: made into strings for a head that stages or the router
/// read (`HTTP1FieldStrings`), or copied as bytes into a head forwarded as it came
/// (`HTTP1FieldLineWriter`).
protocol HTTP1FieldSink {
    mutating func keep(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
}

/// The fields as strings, for an `HTTPHeaders`. Long names and values seen lately come from
/// `strings` (`RepeatedFieldStrings`) when given; others are made anew.
///
/// A value made and used within one read, on one loop.
struct HTTP1FieldStrings: HTTP1FieldSink {
    var fields: [(String, String)] = []
    /// Unretained: the caller holds the strings for the read (held, they were retained and
    /// released around every field).
    private let strings: Unmanaged<RepeatedFieldStrings>?

    init(strings: RepeatedFieldStrings?) {
        self.strings = strings.map(Unmanaged.passUnretained)
        fields.reserveCapacity(16)
    }

    mutating func keep(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        if let strings {
            fields.append(strings._withUnsafeGuaranteedRef { ($0.string(name), $0.string(value)) })
        } else {
            fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
    }
}
