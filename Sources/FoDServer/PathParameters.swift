import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// The typed path parameters of fod's routes, and the paths of resources made.
enum PathParameters {
    /// The `{vin}` path parameter as a VIN.
    /// - Throws: ``APIError`` 422 with the VIN's code (`vin_malformed`, `vin_check_digit`), as for a VIN in a body.
    static func vin(_ context: FoDRequestContext) throws -> VIN {
        let text = context.path("vin")
        do { return try VIN(text) } catch let error as EntitlementError {
            throw APIError(.unprocessableContent, error.code.rawValue, "\"\(text.prefix(20))\" is not a valid VIN: \(error.reason)")
        }
    }

    /// The `{id}` path parameter as an entitlement id.
    /// - Throws: ``EntitlementError`` `id_invalid` (422).
    static func entitlementID(_ context: FoDRequestContext) throws -> EntitlementID { try EntitlementID(context.path("id")) }

    /// Where an entitlement is read (the `Location` of the answers that make one).
    static func entitlementPath(_ id: EntitlementID) -> String { "/v1/entitlements/\(id.value)" }

    /// Where a vehicle is read.
    static func vehiclePath(_ vin: VIN) -> String { "/v1/vehicles/\(vin.value)" }
}
