import LuxyConfig
import NIOCore

/// One active check of one endpoint: a connect (`tcp`), or a request whose status must be
/// expected (`http`), over the cluster's TLS when it has one, bounded by the check's
/// timeout. Runs on the checker's loop; the verdict arrives once, on that loop.
///
/// Loop-confined: created, run and finished on `eventLoop`.
final class HealthCheckProbe {
    enum State {
        case running
        case finished
    }

    private let check: HealthCheckConfiguration
    private let endpoint: ClusterConfiguration.Endpoint
    private let eventLoop: EventLoop
    private var state = State.running
    private var channel: Channel?
    private var timer: Scheduled<Void>?
    private var completion: ((Bool) -> Void)?

    init(check: HealthCheckConfiguration, endpoint: ClusterConfiguration.Endpoint, eventLoop: EventLoop) {
        self.check = check
        self.endpoint = endpoint
        self.eventLoop = eventLoop
    }

    func run(tls: UpstreamTLS?, completion: @escaping (Bool) -> Void) {
        self.completion = completion
        let timeout = TimeAmount.milliseconds(Int64(check.timeoutMilliseconds))
        timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in finish(passed: false) }
        UpstreamConnector.connect(to: endpoint, on: eventLoop, timeout: timeout, tls: tls,
                                  configure: { _ in }) { [self] result in
            switch result {
            case .success(let channel):
                connected(channel)
            case .failure:
                finish(passed: false)
            }
        }
    }

    private func connected(_ channel: Channel) {
        guard case .running = state else {
            channel.close(promise: nil)
            return
        }
        self.channel = channel
        switch check.probe {
        case .tcp:
            finish(passed: true)
        case .http(let http):
            let reader = HealthCheckStatusReader { [self] status in
                finish(passed: status.map(http.accepts) ?? false)
            }
            do {
                try channel.pipeline.syncOperations.addHandler(reader)
            } catch {
                return finish(passed: false)
            }
            let host = http.host ?? endpoint.description
            let request = "\(http.method) \(http.path) HTTP/1.1\r\nhost: \(host)\r\nuser-agent: luxy-health-check\r\n"
                + "connection: close\r\n\r\n"
            channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
        }
    }

    private func finish(passed: Bool) {
        guard case .running = state else { return }
        state = .finished
        timer?.cancel()
        timer = nil
        channel?.close(promise: nil)
        channel = nil
        let completion = self.completion
        self.completion = nil
        completion?(passed)
    }
}

@available(*, unavailable)
extension HealthCheckProbe: Sendable {}
