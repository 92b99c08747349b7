/// The stages a chain runs for one destination service (or one route with `per_stage:`
/// entries), and those of them with a log phase in the order it runs (last stage first).
/// Worked out once per service or route by `HTTPStageChain`, then shared by its requests:
/// one whose stages have no log phase finds `logStages` empty and pays nothing for it.
///
/// Immutable; read on the chain's loop.
struct HTTPStageSelection {
    let stages: [HTTPStage]
    let logStages: [HTTPStage]

    init(stages: [HTTPStage]) {
        self.init(stages: stages, logStages: stages.reversed().filter(\.handlesLog))
    }

    init(stages: [HTTPStage], logStages: [HTTPStage]) {
        self.stages = stages
        self.logStages = logStages
    }
}
