import Synchronization

/// CSPRNG bytes handed out from a buffer that is refilled from OpenSSL in 4 KiB blocks.
///
/// `RAND_bytes` costs about 1.5 µs per call in OpenSSL 3.0 (provider dispatch and DRBG locks),
/// which is most of what a token id costs; buffering amortizes that. The bytes are the same
/// CSPRNG output, each handed out once. fod never forks, so the buffer is never duplicated.
public final class RandomPool: Sendable {
    private struct State: ~Copyable {
        var buffer: [UInt8] = []
        var offset = 0
    }

    private let state = Mutex(State())
    private static let blockSize = 4096

    /// The process-wide pool.
    public static let shared = RandomPool()

    /// Creates an empty pool.
    public init() {}

    /// `count` random bytes (at most 256 per call).
    public func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= 256, "RandomPool hands out at most 256 bytes at a time")
        return state.withLock { state in
            if state.offset + count > state.buffer.count {
                state.buffer = SecureRandom.bytes(RandomPool.blockSize)
                state.offset = 0
            }
            let slice = Array(state.buffer[state.offset..<(state.offset + count)])
            // Handed-out bytes are wiped from the buffer.
            for index in state.offset..<(state.offset + count) { state.buffer[index] = 0 }
            state.offset += count
            return slice
        }
    }
}
