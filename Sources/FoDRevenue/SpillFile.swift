#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A temporary file of fixed-size records the report writes where its memory limit ends.
///
/// The file is removed from its folder as soon as it is created, so nothing is left behind, not
/// even after a crash; it lives until it is closed (or the process ends).
final class SpillFile {
    private let descriptor: Int32
    /// The folder it was made in (for error messages).
    let folder: String
    /// The bytes written so far.
    private(set) var size: Int64 = 0

    /// Creates an empty temporary file in `folder`.
    /// - Throws: ``RevenueError`` `spill_failed` when the folder does not take a file.
    init(folder: String) throws {
        self.folder = folder
        var template = Array((folder.hasSuffix("/") ? folder : folder + "/").utf8CString.dropLast()) + Array("fod-report-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SpillFile.failure("cannot create a temporary file in \(folder)") }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        unlink(path)
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The temporary folder: `TMPDIR`, else `/tmp`.
    static var defaultFolder: String {
        if let value = getenv("TMPDIR"), let text = String(validatingCString: value), !text.isEmpty { return text }
        return "/tmp"
    }

    /// Appends bytes; returns the offset they start at.
    @discardableResult
    func append(_ bytes: UnsafeRawBufferPointer) throws -> Int64 {
        let start = size
        try SpillFile.repeatUntilDone(bytes.count, "cannot write a temporary file in \(folder)") { done in
            pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(start) + off_t(done))
        }
        size += Int64(bytes.count)
        return start
    }

    /// Reads `buffer.count` bytes at `offset` (all of them were written).
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws {
        try SpillFile.repeatUntilDone(buffer.count, "cannot read back a temporary file in \(folder)") { done in
            pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
        }
    }

    /// Calls `transfer` with the bytes done so far until `count` are done (a short read or write
    /// goes on; `EINTR` is retried; an error or end of file throws `what`).
    private static func repeatUntilDone(_ count: Int, _ what: @autoclosure () -> String, _ transfer: (Int) -> Int) throws {
        var done = 0
        while done < count {
            let moved = transfer(done)
            if moved < 0 && errno == EINTR { continue }
            guard moved > 0 else { throw failure(what()) }
            done += moved
        }
    }

    private static func failure(_ what: String) -> RevenueError {
        RevenueError(.spillFailed, "\(what): \(String(cString: strerror(errno))) (give another folder with --temp-dir, or a larger --memory-limit)")
    }
}
