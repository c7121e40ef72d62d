/// A row that could not be used, with its line number and why.
public struct RejectedRow: Sendable, Hashable {
    /// The physical line in the events file (the header is line 1).
    public let line: Int64
    /// The row's event id, if it could be read.
    public let eventID: String
    /// The stable code.
    public let code: RevenueError.Code
    /// What is wrong, naming the field.
    public let reason: String

    /// Creates a rejected row.
    public init(line: Int64, eventID: String, code: RevenueError.Code, reason: String) {
        self.line = line
        self.eventID = eventID
        self.code = code
        self.reason = reason
    }
}
