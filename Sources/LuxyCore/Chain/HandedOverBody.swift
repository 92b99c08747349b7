import NIOCore

/// What a stage starting to stream a body takes over: the part buffered, and whether the
/// end came already.
struct HandedOverBody {
    var buffered: ByteBuffer?
    var ended: Bool
}
