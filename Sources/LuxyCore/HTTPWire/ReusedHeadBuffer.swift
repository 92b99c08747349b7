import NIOCore

/// The buffer HTTP/1.1 message heads are written into, used again for the next head: the
/// connections of one event loop share one (`LoopContext.headBuffer`), client connections for
/// their responses and upstream connections for their requests. NIO lets go of a head's buffer once it is written to
/// the socket, which is usually before the next head on the loop is encoded (a response is
/// flushed at its end, a request at once); the kept copy is then the memory's only owner, and
/// clearing it reuses the memory where a new buffer would cost two allocations (storage
/// object and bytes). While NIO still holds the last head (a slow reader, or a head written
/// but not yet flushed), clearing copies on write as any shared `ByteBuffer` does, so a head
/// written out is never touched. Shared rather than per connection: an idle keep-alive
/// connection then holds no buffer at all (about 380 bytes each otherwise).
///
/// A class, shared by reference; confined to the event loop of the connections using it.
final class ReusedHeadBuffer {
    /// Larger buffers (a head with many or long fields) are not kept.
    static let maximumKeptCapacity = 4096

    private var kept: ByteBuffer?

    /// An empty buffer with room for `capacity` bytes to write the head into. The result must
    /// be handed back through `keep` once written, for the next head to reuse.
    func take(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        // Taken out first, so that `clear` finds the memory uniquely owned.
        guard var buffer = kept.take() else { return allocator.buffer(capacity: capacity) }
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    func keep(_ buffer: ByteBuffer) {
        kept = buffer.capacity <= Self.maximumKeptCapacity ? buffer : nil
    }
}

@available(*, unavailable)
extension ReusedHeadBuffer: Sendable {}
