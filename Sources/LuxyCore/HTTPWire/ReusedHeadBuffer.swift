import NIOCore

/// The buffers HTTP/1.1 message heads are written into, used again for later heads: the
/// connections of one event loop share them (`LoopContext.headBuffer`), client connections for
/// their responses and upstream connections for their requests. NIO lets go of a head's buffer
/// once it is written to the socket; the kept copy is then the memory's only owner, and
/// clearing it reuses the memory where a new buffer would cost two allocations (storage object
/// and bytes). While NIO still holds a head (a slow reader, or a head written and waiting for
/// the end of the loop's turn to be flushed, `LoopFlushes`), clearing copies on write as any
/// shared `ByteBuffer` does, so a head written out is never touched.
///
/// A ring of them is kept, and a head reuses the one written `ringLength` heads before it: a
/// turn's heads are flushed together at its end, so the heads of earlier turns are the ones
/// already out of NIO's hands. With one kept buffer, every head but the first of a turn found
/// it still held, and copied it (four allocations per request under the bench's 64
/// connections). The ring fills with new buffers first, then is used in turn. Shared rather
/// than per connection: an idle keep-alive connection then holds no buffer at all (about 380
/// bytes each otherwise); the loop keeps `ringLength` at most, about 16 KB.
///
/// A class, shared by reference; confined to the event loop of the connections using it.
final class ReusedHeadBuffer {
    /// Larger buffers (a head with many or long fields) are not kept.
    static let maximumKeptCapacity = 4096
    /// More heads than a busy turn writes (a request's and a response's per exchange).
    static let ringLength = 64

    /// Kept heads, oldest first.
    private var kept = CircularBuffer<ByteBuffer>(initialCapacity: ringLength)

    /// An empty buffer with room for `capacity` bytes to write the head into. The result must
    /// be handed back through `keep` once written, for a later head to reuse.
    func take(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        // A new buffer until the ring is full: taking the oldest of a short ring would find it
        // still held by NIO as often as not, and copy it.
        guard kept.count >= Self.ringLength else { return allocator.buffer(capacity: capacity) }
        // Taken out first, so that `clear` finds the memory uniquely owned.
        var buffer = kept.removeFirst()
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    func keep(_ buffer: ByteBuffer) {
        guard buffer.capacity <= Self.maximumKeptCapacity else { return }
        if kept.count >= Self.ringLength { kept.removeFirst() }
        kept.append(buffer)
    }
}

@available(*, unavailable)
extension ReusedHeadBuffer: Sendable {}
