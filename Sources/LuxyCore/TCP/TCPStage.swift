import NIOCore

/// A stage of a `-tcp` chain, between routing and the upstream connection: what LuxyPlugins
/// adapts a Lua script to. One instance per (generation, event loop); it runs only on that
/// loop. Mirrors `HTTPStage`: verdicts come back through `completion`, synchronously or later
/// (a script waiting on `httpCall`), exactly once.
public protocol TCPStage: AnyObject {
    var name: String { get }
    var handlesConnect: Bool { get }
    var handlesDownstreamData: Bool { get }
    var handlesUpstreamData: Bool { get }
    var handlesClose: Bool { get }
    /// A client connected; the upstream is not connected yet.
    func runConnect(_ connection: TCPConnection, completion: @escaping (TCPConnectVerdict) -> Void)
    /// Bytes from `side` on their way to the other side. `endOfStream`: `side` will send
    /// nothing more (the bytes may be empty then).
    func runData(_ connection: TCPConnection, from side: TCPSide, bytes: ByteBuffer, endOfStream: Bool,
                 completion: @escaping (TCPDataVerdict) -> Void)
    /// The connection is over (both directions done, or closed). No verdict.
    func runClose(_ connection: TCPConnection)
}

public enum TCPSide: Sendable {
    /// The client of the listener.
    case downstream
    /// The cluster endpoint.
    case upstream
}

public enum TCPConnectVerdict {
    case proceed
    /// Close the client connection; no upstream is contacted.
    case refuse
    /// The stage failed (already logged by the stage): the connection is closed.
    case failed(String)
}

public enum TCPDataVerdict {
    /// Hand the bytes on unchanged.
    case pass
    /// Hand these bytes on instead (empty drops the chunk).
    case replace(ByteBuffer)
    /// Keep the bytes: the stage sees them again, prepended to the next chunk. At the end of
    /// the stream nothing more comes, so held bytes are handed on.
    case hold
    /// Close the connection, both sides.
    case close
    /// The stage failed (already logged by the stage): the connection is closed.
    case failed(String)
}

/// The Lua stages of one tcp chain on one loop, in priority order (highest first), plus a
/// hook for per-connection state the stages keep in `TCPConnection.pluginState`.
public final class TCPStageChain {
    public let stages: [TCPStage]
    /// Called once per connection that touched a stage, after the close phase.
    let finishConnection: ((TCPConnection) -> Void)?

    public init(stages: [TCPStage], finishConnection: ((TCPConnection) -> Void)? = nil) {
        self.stages = stages
        self.finishConnection = finishConnection
    }
}

@available(*, unavailable)
extension TCPStageChain: Sendable {}
