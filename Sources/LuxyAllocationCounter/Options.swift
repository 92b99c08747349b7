/// The command line: `[--requests N] [--warmup N] [SCENARIO...]`, all scenarios by default.
struct Options {
    var requests = 1000
    /// Enough for every pool, cache and lazily built piece of state to exist before counting.
    var warmup = 200
    var scenarios = Scenario.allCases

    init<Arguments: Collection<String>>(_ arguments: Arguments) throws {
        var chosen: [Scenario] = []
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--requests", "--warmup":
                guard let text = iterator.next(), let value = Int(text), value > 0 else {
                    throw HarnessError("\(argument) needs a positive number")
                }
                if argument == "--requests" { requests = value } else { warmup = value }
            case "--json":
                break // the only output format; accepted for scripts that ask for it
            default:
                guard let scenario = Scenario(rawValue: argument) else {
                    throw HarnessError("unknown argument '\(argument)'; scenarios: "
                        + Scenario.allCases.map(\.rawValue).joined(separator: ", "))
                }
                chosen.append(scenario)
            }
        }
        if !chosen.isEmpty { scenarios = chosen }
    }
}
