import CLua
import CLuaShims

/// Driving a phase's coroutine, shared by HTTP and TCP streams.
extension LuaVM {
    /// Resumes `co` on behalf of `stream` with `budget` instructions left (updated on return).
    /// What the VM thinks is running is saved and restored around it: a host may complete a
    /// wait from inside another stream's host call, which resumes this coroutine nested in it.
    /// `httpStream`: the stream again when it is an HTTP request's (`currentHTTPStream`).
    func resume(_ co: OpaquePointer, for stream: LuaHostStream, httpStream: LuaHTTPStream? = nil,
                budget: inout Int64, arguments: Int32) -> (status: Int32, results: Int32) {
        let savedStream = currentStream
        let savedHTTPStream = currentHTTPStream
        let savedBudget = self.budget
        let savedInHostCall = inHostCall
        currentStream = stream
        currentHTTPStream = httpStream.map { Unmanaged.passUnretained($0) }
        self.budget = budget
        inHostCall = false
        var results: Int32 = 0
        let status = luxy_resume(co, nil, arguments, &results)
        budget = self.budget
        self.budget = savedBudget
        inHostCall = savedInHostCall
        currentStream = savedStream
        currentHTTPStream = savedHTTPStream
        return (status, results)
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
