/// The stages a chain runs for one destination service (or one route with `per_stage:`
/// entries), and those of them with a log phase in the order it runs (last stage first).
/// Worked out once per service or route by `HTTPStageChain`, then shared by its requests:
/// one whose stages have no log phase finds `logStages` empty and pays nothing for it.
///
/// Immutable; read on the chain's loop.
struct HTTPStageSelection {
    let stages: [HTTPStage]
    /// Which of the request and response phases each stage has, by its index in `stages`:
    /// the chain steps over a stage without one by this flag, without reading the stage (a
    /// retain and a release each time).
    let phases: [HTTPStagePhases]
    let logStages: [HTTPStage]

    /// No stage: a request without a chain.
    static var none: HTTPStageSelection { HTTPStageSelection(stages: [], logStages: []) }

    init(stages: [HTTPStage]) {
        self.init(stages: stages, logStages: stages.reversed().filter(\.handlesLog))
    }

    init(stages: [HTTPStage], logStages: [HTTPStage]) {
        self.stages = stages
        self.phases = stages.map(HTTPStagePhases.init(of:))
        self.logStages = logStages
    }
}

/// The request and response phases one stage has (`HTTPStage.handlesRequest/Response`).
struct HTTPStagePhases: OptionSet {
    let rawValue: UInt8

    static let request = HTTPStagePhases(rawValue: 1 << 0)
    static let response = HTTPStagePhases(rawValue: 1 << 1)

    init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    init(of stage: HTTPStage) {
        self = []
        if stage.handlesRequest { insert(.request) }
        if stage.handlesResponse { insert(.response) }
    }
}
