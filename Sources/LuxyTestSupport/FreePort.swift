import NIOCore
import NIOPosix

/// A loopback port nothing listens on right now: the kernel's pick for port 0, released again.
/// For a config that must name its port before the process that binds it starts.
public func freePort(_ group: EventLoopGroup) async throws -> Int {
    let channel = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress!.port!
    try await channel.close()
    return port
}
