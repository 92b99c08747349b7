import NIOCore

/// The buffer a connection's encoder writes each message head into, used again for the next
/// head. NIO lets go of a head's buffer once it is written to the socket, which on a
/// keep-alive connection is long before the next head; this copy is then the memory's only
/// owner, and clearing it reuses the memory where a new buffer would cost two allocations
/// (storage object and bytes). While NIO still holds the last head (a slow reader), clearing
/// copies on write as any shared `ByteBuffer` does, so a head written out is never touched.
///
/// Value type inside its encoder, which is confined to its connection's event loop.
struct ReusedHeadBuffer {
    /// Larger buffers (a head with many or long fields) are not kept: an idle keep-alive
    /// connection holds at most this much for its next head.
    static let maximumKeptCapacity = 4096

    private var kept: ByteBuffer?

    /// An empty buffer with room for `capacity` bytes to write the head into. The result must
    /// be handed back through `keep` once written, for the next head to reuse.
    mutating func take(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        // Taken out first, so that `clear` finds the memory uniquely owned.
        guard var buffer = kept.take() else { return allocator.buffer(capacity: capacity) }
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    mutating func keep(_ buffer: ByteBuffer) {
        kept = buffer.capacity <= Self.maximumKeptCapacity ? buffer : nil
    }
}
