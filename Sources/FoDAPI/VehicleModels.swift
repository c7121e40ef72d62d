import FoDCore
import FoDEntitlements

/// `POST /v1/vehicles`: the vehicle document (the same one the vehicles fixture file holds).
public typealias VehicleRegistration = Vehicle

/// A vehicle as the API shows it (`Vehicle` in `docs/openapi.yaml`).
public struct VehicleBody: Codable, Sendable, Hashable {
    public var vin: VIN
    public var model: String
    public var modelYear: Int
    public var market: Market
    public var equipment: [String]
    @Nullable public var servicingDealer: DealerID?

    enum CodingKeys: String, CodingKey {
        case vin, model
        case modelYear = "model_year"
        case market, equipment
        case servicingDealer = "servicing_dealer"
    }

    public init(_ vehicle: Vehicle) {
        vin = vehicle.vin
        model = vehicle.model
        modelYear = vehicle.modelYear
        market = vehicle.market
        equipment = vehicle.equipment.sorted()
        servicingDealer = vehicle.servicingDealer
    }
}
