import Crypto
import Foundation

/// SHA-1 for the one thing tests need it for: the WebSocket handshake's `Sec-WebSocket-Accept`
/// (RFC 6455 §4.2.2). swift-crypto computes it; nothing here is hand-written crypto. Plain
/// functions, usable on any thread.
public enum SHA1 {
    public static func digest(_ message: [UInt8]) -> [UInt8] {
        Array(Insecure.SHA1.hash(data: message))
    }

    /// RFC 6455 §4.2.2: base64(SHA-1(key + the protocol's GUID)).
    public static func webSocketAccept(key: String) -> String {
        Data(digest(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
    }
}
