import NIOCore
import NIOHTTP1

/// A response head as the upstream side hands it on: an `HTTPResponseHead`, for an exchange
/// whose stages read or change it, or the bytes that go to the client as they came
/// (`ForwardedResponseHead`), for one where nothing does. The fast path and the connection
/// handler carry either the same way, generic over this; each kind says which of the
/// receiver's methods takes it.
///
/// A protocol rather than an enum: the generic code is specialised for each kind and calls
/// the receiver directly, with no payload to wrap and switch over. The head is handed on
/// (`consuming`) all the way from the parser to the receiver: a second reference to it would
/// make the first write to it (a forwarded head's end, a field a stage adds) copy it.
protocol ReceivedResponseHead {
    /// `UpstreamResponseReceiver.upstreamResponseHead`: its body and end follow.
    consuming func tell(_ receiver: UpstreamResponseReceiver)
    /// `UpstreamResponseReceiver.upstreamWholeResponse`.
    consuming func tellWhole(_ receiver: UpstreamResponseReceiver, body: ByteBuffer?)
}

extension HTTPResponseHead: ReceivedResponseHead {
    consuming func tell(_ receiver: UpstreamResponseReceiver) {
        receiver.upstreamResponseHead(self)
    }

    consuming func tellWhole(_ receiver: UpstreamResponseReceiver, body: ByteBuffer?) {
        receiver.upstreamWholeResponse(self, body: body)
    }
}

extension ForwardedResponseHead: ReceivedResponseHead {
    consuming func tell(_ receiver: UpstreamResponseReceiver) {
        receiver.upstreamResponseHead(forwarded: self)
    }

    consuming func tellWhole(_ receiver: UpstreamResponseReceiver, body: ByteBuffer?) {
        receiver.upstreamWholeResponse(forwarded: self, body: body)
    }
}
