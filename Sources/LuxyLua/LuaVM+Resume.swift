import CLua
import CLuaShims

/// Driving a phase's coroutine, shared by HTTP and TCP streams.
extension LuaVM {
    /// How a resume ended: the `lua_resume` status (or `LUXY_RESUME_SLICE_ENDED`), and how
    /// many values the coroutine yielded or returned.
    struct ResumeResult {
        let status: Int32
        let results: Int32
    }

    /// Resumes `co` on behalf of `stream` with `budget` instructions left (updated on return).
    /// What the VM thinks is running is saved and restored around it: a host may complete a
    /// wait from inside another stream's host call, which resumes this coroutine nested in it.
    func resume(_ co: OpaquePointer, for stream: LuaHostStream, budget: inout Int64, arguments: Int32)
        -> ResumeResult {
        resume(co, for: stream, httpStream: nil, budget: &budget, arguments: arguments)
    }

    /// The same for an HTTP request's stream, which the dispatch of its host calls, the most
    /// frequent kind, then reaches unretained (`currentHTTPStream`).
    func resume(_ co: OpaquePointer, for stream: LuaHTTPStream, budget: inout Int64, arguments: Int32)
        -> ResumeResult {
        resume(co, for: stream, httpStream: Unmanaged.passUnretained(stream), budget: &budget, arguments: arguments)
    }

    private func resume(_ co: OpaquePointer, for stream: LuaHostStream, httpStream: Unmanaged<LuaHTTPStream>?,
                        budget: inout Int64, arguments: Int32) -> ResumeResult {
        let savedStream = currentStream
        let savedHTTPStream = currentHTTPStream
        let savedBudget = self.budget
        let savedInHostCall = inHostCall
        currentStream = stream
        currentHTTPStream = httpStream
        self.budget = budget
        inHostCall = false
        var results: Int32 = 0
        let status = luxy_resume(co, nil, arguments, &results)
        budget = self.budget
        self.budget = savedBudget
        inHostCall = savedInHostCall
        currentStream = savedStream
        currentHTTPStream = savedHTTPStream
        return ResumeResult(status: status, results: results)
    }

    /// The error a coroutine stopped with, its message and traceback.
    func scriptError(in co: OpaquePointer, chunkName: String) -> LuaScriptError {
        let message = LuaVM.errorMessage(LuaStack(co), -1)
        luaL_traceback(L, co, nil, 0)
        let traceback = LuaStack(L).string(-1)
        LuaStack(L).pop()
        return LuaScriptError(message: message, chunkName: chunkName, traceback: traceback)
    }

    /// A phase function that yielded on its own, not through a host call that waits.
    static func unexpectedYield(_ chunkName: String) -> LuaScriptError {
        LuaScriptError(message: "\(chunkName): script performed an unexpected yield", chunkName: chunkName)
    }
}
