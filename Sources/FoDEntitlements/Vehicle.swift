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

    /// Checks what the types alone cannot: the model is display text of at most 40 characters,
    /// the model year 1980–2100, the market two capital letters, and each equipment code 1 to 16
    /// capital letters or digits.
    /// - Throws: ``EntitlementError`` `request_invalid` naming the field.
    public func validate() throws {
        try DisplayText.check(model, "model", maxLength: 40)
        guard (1980...2100).contains(modelYear) else {
            throw EntitlementError(.requestInvalid, "model_year \(modelYear) is outside 1980–2100")
        }
        guard market.utf8.count == 2, market.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            throw EntitlementError(.requestInvalid, "market must be an ISO 3166-1 alpha-2 code such as DE")
        }
        guard equipment.count <= 200 else { throw EntitlementError(.requestInvalid, "equipment lists at most 200 codes") }
        for code in equipment.sorted() {
            guard (1...16).contains(code.utf8.count), code.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
                throw EntitlementError(.requestInvalid, "equipment code \"\(code.prefix(20))\" must be 1 to 16 capital letters or digits")
            }
        }
    }
}
