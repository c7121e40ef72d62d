/// A vehicle's master data, as eligibility needs it.
public struct Vehicle: Sendable, Hashable {
    /// The VIN.
    public var vin: VIN
    /// The model, such as `A4`.
    public var model: String
    /// The model year.
    public var modelYear: Int
    /// The market it is registered in (ISO 3166-1 alpha-2).
    public var market: String
    /// Factory equipment codes, such as `7UG`.
    public var equipment: Set<String>
    /// The servicing dealer, credited with online sales.
    public var servicingDealer: DealerID?

    /// Creates a vehicle record.
    public init(vin: VIN, model: String, modelYear: Int, market: String, equipment: Set<String>, servicingDealer: DealerID? = nil) {
        self.vin = vin
        self.model = model
        self.modelYear = modelYear
        self.market = market
        self.equipment = equipment
        self.servicingDealer = servicingDealer
    }
}
