import FoDCore
import FoDCrypto

/// The one error type of the `fod` command line's own work (talking to a server, local sign-in
/// state); library errors keep their own types.
struct CommandError: CodedError {
    typealias Code = ErrorCode<CommandError>
    let code: Code
    let reason: String

    init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension ErrorCode where Domain == CommandError {
    /// The server could not be reached (after retries).
    static let serverUnreachable = ErrorCode("server_unreachable")
    /// The server answered with a problem document; the reason carries its code and detail.
    static let serverRefused = ErrorCode("server_refused")
    /// The server's answer was not what the API describes.
    static let serverAnswer = ErrorCode("server_answer_invalid")
    /// No dealer key: not in `FOD_DEALER_KEY`, not signed in, and no terminal to ask on.
    static let notSignedIn = ErrorCode("not_signed_in")
    /// The key is valid but not a dealer key.
    static let notDealerKey = ErrorCode("not_a_dealer_key")
    /// `fod vehicle`: no car at the state path (no factory file beside it).
    static let vehicleNotInitialized = ErrorCode("vehicle_not_initialized")
    /// A file could not be written.
    static let fileWrite = ErrorCode("file_write_failed")
}
