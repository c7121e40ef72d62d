import CFoDVehicle
import FoDCore
import FoDEntitlements
import FoDVehicle

/// The C side's plumbing: results, statuses, strings, buffers and time, one definition each.
enum CInterop {
    static let ok: Int32 = 0
    static let refused: Int32 = 1
    static let error: Int32 = 2

    /// Writes `code` and `detail` into the caller's status (when given), NUL-terminated, cut to fit.
    static func write(_ status: UnsafeMutablePointer<fod_status>?, code: String, detail: String) {
        guard let status else { return }
        withUnsafeMutableBytes(of: &status.pointee.code) { copy(code, into: $0) }
        withUnsafeMutableBytes(of: &status.pointee.detail) { copy(detail, into: $0) }
    }

    private static func copy(_ text: String, into buffer: UnsafeMutableRawBufferPointer) {
        let bytes = Array(text.utf8)
        var count = min(bytes.count, buffer.count - 1)
        // Cut before a whole character, never inside its UTF-8 sequence.
        while count > 0, count < bytes.count, bytes[count] & 0xC0 == 0x80 { count -= 1 }
        for index in 0..<count { buffer[index] = bytes[index] }
        buffer[count] = 0
    }

    /// Runs `body`; a thrown coded error becomes `FOD_REFUSED` (a verification refusal) or
    /// `FOD_ERROR` (a wrong call) with its code.
    static func run(_ status: UnsafeMutablePointer<fod_status>?, _ body: () throws -> Int32) -> Int32 {
        do {
            let result = try body()
            if result == ok { write(status, code: "ok", detail: "") }
            return result
        } catch let error as Misuse {
            write(status, code: error.code.rawValue, detail: error.reason)
            return CInterop.error
        } catch let refusal as Refusal {
            write(status, code: refusal.code, detail: refusal.reason)
            return refused
        } catch let error as any CodedError {
            write(status, code: error.codeName, detail: error.reason)
            return refused
        } catch {
            write(status, code: "internal_error", detail: "an unexpected error")
            return CInterop.error
        }
    }

    /// A wrong call: FOD_ERROR rather than FOD_REFUSED.
    struct Misuse: Error {
        let code: VehicleError.Code
        let reason: String
        init(_ code: VehicleError.Code, _ reason: String) {
            self.code = code
            self.reason = reason
        }
    }

    /// A refusal that is an answer rather than an error type of a module (a feature not enabled).
    struct Refusal: Error {
        let code: String
        let reason: String
    }

    /// The text of `length` bytes at `pointer` (the bytes as given: a token or document is ASCII).
    static func text(_ pointer: UnsafePointer<CChar>?, _ length: Int, _ what: String) throws -> String {
        guard length >= 0 else { throw Misuse(.argumentInvalid, "\(what): negative length") }
        guard let pointer else {
            guard length == 0 else { throw Misuse(.argumentInvalid, "\(what) is NULL") }
            return ""
        }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// A NUL-terminated string argument.
    static func string(_ pointer: UnsafePointer<CChar>?, _ what: String) throws -> String {
        guard let pointer else { throw Misuse(.argumentInvalid, "\(what) is NULL") }
        return String(cString: pointer)
    }

    /// A validated argument: its own refusal code (`vin_malformed`, `feature_invalid`, …) as a wrong call.
    static func argument<T>(_ make: () throws -> T) throws -> T {
        do { return try make() } catch let error as any CodedError {
            throw Misuse(VehicleError.Code(error.codeName), error.reason)
        }
    }

    /// Milliseconds of the caller's monotonic clock as the nanoseconds `FoDVehicle` counts in.
    static func nanoseconds(_ milliseconds: UInt64) -> UInt64 {
        let (product, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? UInt64.max : product
    }

    /// Copies `bytes` into the caller's buffer (plus a NUL when `terminate`), or says the size needed.
    static func deliver(_ bytes: [UInt8], terminate: Bool, into buffer: UnsafeMutableRawPointer?, capacity: Int,
                        length: UnsafeMutablePointer<Int>?) throws -> Int32 {
        length?.pointee = bytes.count
        let needed = bytes.count + (terminate ? 1 : 0)
        guard let buffer, capacity >= needed else {
            throw Misuse(.bufferTooSmall, "the answer needs \(needed) bytes; the buffer has \(max(0, capacity))")
        }
        if !bytes.isEmpty { bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) } }
        if terminate { buffer.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self) }
        return ok
    }
}
