#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An events export kept in a temporary file (removed from its folder as soon as it is made,
/// like the report's spill files) and read back as a ``ByteSource``: a month of a million events
/// for a close on disk, not in memory.
///
/// Written first (``append(_:)``), then read; not for concurrent writers.
public final class EventsSpool: ByteSource, @unchecked Sendable {
    // Unchecked: written by one task (the export), then read by one (the report); `read(at:)`
    // is a `pread` that does not touch `position`.
    private let file: SpillFile
    private var position: Int64 = 0

    /// An empty spool in `folder` (default: `TMPDIR`, else `/tmp`).
    /// - Throws: ``RevenueError`` `spill_failed` when the folder does not take a file.
    public init(folder: String? = nil) throws {
        file = try SpillFile(folder: folder ?? SpillFile.defaultFolder)
    }

    /// The bytes written.
    public var size: Int64 { file.size }

    /// Appends the next block of the export.
    /// - Throws: ``RevenueError`` `spill_failed` when the disk does not take it.
    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { _ = try file.append($0) }
    }

    /// Reads the next bytes from the start; 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try read(at: position, into: buffer)
        position += Int64(count)
        return count
    }

    /// Reads at `offset` without moving the stream.
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = Int(max(0, min(Int64(buffer.count), file.size - offset)))
        guard count > 0 else { return 0 }
        try file.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
        return count
    }
}
