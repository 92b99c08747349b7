/// The host functions of the `luxy` table and of the objects it hands out: ids 1100-1399 of
/// the one host trampoline (`LuaMethod` holds the handle's). The functions of the table take
/// no `self`; the methods of objects do, as `LuaMethod`'s.
enum LuxyMethod: Int32, CaseIterable {
    // Functions of the `luxy` table (`LuaVM.makeLuxyTable` places them by `luaName`).
    case shared = 1100, queue, timerEvery, timerAfter, metricsCounter, metricsGauge, metricsHistogram, httpCall, log
    case logFormat
    case dictGet = 1150, dictSet, dictAdd, dictIncr, dictCompareAndSet, dictDelete, dictKeys
    case counterInc = 1200
    case gaugeSet = 1220, gaugeInc
    case histogramObserve = 1240
    case queueEnqueue = 1260, queueDequeue, queueConsume, queueLength
    case timerCancel = 1300
    case logFormatRender = 1320

    /// The object the method belongs to; nil for the functions of the `luxy` table.
    var kind: LuxyObjectKind? {
        switch rawValue {
        case ..<1150: nil
        case ..<1200: .sharedDict
        case ..<1220: .counter
        case ..<1240: .gauge
        case ..<1260: .histogram
        case ..<1300: .queue
        case ..<1320: .timer
        default: .logFormat
        }
    }

    /// A method's name; for a function of the `luxy` table its dotted path there, which makes
    /// the sub-tables (`timer.every` is `luxy.timer.every`).
    var luaName: String {
        switch self {
        case .shared: "shared"
        case .queue: "queue"
        case .timerEvery: "timer.every"
        case .timerAfter: "timer.after"
        case .metricsCounter: "metrics.counter"
        case .metricsGauge: "metrics.gauge"
        case .metricsHistogram: "metrics.histogram"
        case .httpCall: "httpCall"
        case .log: "log"
        case .logFormat: "log_format"
        case .dictGet: "get"
        case .dictSet, .gaugeSet: "set"
        case .dictAdd: "add"
        case .dictIncr: "incr"
        case .dictCompareAndSet: "cas"
        case .dictDelete: "delete"
        case .dictKeys: "keys"
        case .counterInc, .gaugeInc: "inc"
        case .histogramObserve: "observe"
        case .queueEnqueue: "enqueue"
        case .queueDequeue: "dequeue"
        case .queueConsume: "consume"
        case .queueLength: "length"
        case .timerCancel: "cancel"
        case .logFormatRender: "render"
        }
    }
}

/// The objects the `luxy` table hands out; each has one metatable per VM. Their values start
/// at 100, clear of `LuaObjectKind`'s. They live as long as the VM: unlike a handle's
/// objects they carry no phase token.
enum LuxyObjectKind: Int32, CaseIterable {
    case sharedDict = 100, counter, gauge, histogram, queue, timer, logFormat

    var typeName: String {
        switch self {
        case .sharedDict: "luxy.shared_dict"
        case .counter: "luxy.counter"
        case .gauge: "luxy.gauge"
        case .histogram: "luxy.histogram"
        case .queue: "luxy.queue"
        case .timer: "luxy.timer"
        case .logFormat: "luxy.log_format"
        }
    }
}
