/// Why a QR code could not be made.
public enum QRError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data does not fit the largest symbol (version 40) at the asked level.
    case dataTooLong(bytes: Int, level: QRErrorCorrection)
    /// A version outside 1…40 or a mask outside 0…7 was asked for.
    case invalidParameter(String)

    /// A stable code for the error.
    public var code: String {
        switch self {
        case .dataTooLong: "qr_data_too_long"
        case .invalidParameter: "qr_parameter_invalid"
        }
    }

    public var description: String {
        switch self {
        case .dataTooLong(let bytes, let level): "\(code): \(bytes) bytes do not fit a QR code at level \(level)"
        case .invalidParameter(let what): "\(code): \(what)"
        }
    }
}
