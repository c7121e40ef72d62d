/// What the stateless checks of a row found, computed where the row was read (possibly on
/// another thread) so that the builder only does the work that needs its tables.
struct PreparedEvent: Sendable {
    /// The first error of the id, timestamp, kind, refers_to and VIN checks.
    var error: RevenueError?
    /// An error of gross_minor or vat_bps, reported after the interned fields' errors.
    var amountError: RevenueError?
    var fingerprint: UInt64 = 0
    var refersToHash: UInt64 = 0
    var time: Int64 = 0
    var gross: Int64 = 0
    var vatBps: Int64 = 0
    var isRefund = false
    /// The upper-cased VIN.
    var vin: (UInt64, UInt64, UInt8) = (0, 0, 0)
}
