/// A log format's layout laid out for rendering: every literal byte of the line in one array,
/// and the steps that say what comes next. A line is then a walk over two arrays of plain
/// values; walking the layout itself copied each field's key, parts and operator (a retain
/// and a release each) per field and request, about a third of a 16-field line's time.
///
/// Made once with its `LuaLogFormat`, then only read (on the loop that renders it).
struct LogLinePlan {
    enum Step {
        /// `literals[start..<end]`, copied as they are: a JSON line's literals are escaped
        /// already, and the keys, quotes and commas between values are merged into one step.
        case literal(start: Int, end: Int)
        /// `operators[i]` in a text line: an absent value prints `-`.
        case text(Int)
        /// `operators[i]` as a JSON field of its own: a number stays a number, absent is null.
        case json(Int)
        /// `operators[i]` inside a JSON string: escaped, an absent value prints `-`.
        case escaped(Int)
    }

    private(set) var literals: [UInt8] = []
    private(set) var steps: [Step] = []
    private(set) var operators: [LuaLogFormat.Operator] = []

    init(_ layout: LuaLogFormat.Layout) {
        switch layout {
        case .text(let parts):
            for part in parts {
                switch part {
                case .literal(let bytes): appendLiteral(bytes)
                case .value(let op): appendValue(op, as: Step.text)
                }
            }
        case .json(let fields):
            appendLiteral([UInt8(ascii: "{")])
            for field in fields {
                appendLiteral(field.prefix)
                if let op = field.single {
                    appendValue(op, as: Step.json)
                    continue
                }
                appendLiteral([UInt8(ascii: "\"")])
                for part in field.parts {
                    switch part {
                    case .literal(let escaped): appendLiteral(escaped)
                    case .value(let op): appendValue(op, as: Step.escaped)
                    }
                }
                appendLiteral([UInt8(ascii: "\"")])
            }
            appendLiteral([UInt8(ascii: "}")])
        }
    }

    /// Literal bytes, merged into the step before when that is a literal too.
    private mutating func appendLiteral(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let start = literals.count
        literals.append(contentsOf: bytes)
        if case .literal(let previousStart, _) = steps.last {
            steps[steps.count - 1] = .literal(start: previousStart, end: literals.count)
        } else {
            steps.append(.literal(start: start, end: literals.count))
        }
    }

    private mutating func appendValue(_ op: LuaLogFormat.Operator, as step: (Int) -> Step) {
        steps.append(step(operators.count))
        operators.append(op)
    }
}
