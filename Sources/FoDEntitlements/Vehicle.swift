import FoDCore

/// A vehicle's master data, as eligibility needs it.
public struct Vehicle: Sendable, Hashable {
    /// The VIN.
    public var vin: VIN
    /// The model, such as `A4`.
    public var model: String
    /// The model year.
    public var modelYear: Int
    /// The market it is registered in.
    public var market: Market
    /// Factory equipment codes, such as `7UG`.
    public var equipment: Set<String>
    /// The servicing dealer, credited with online sales.
    public var servicingDealer: DealerID?

    /// Creates a vehicle record.
    public init(vin: VIN, model: String, modelYear: Int, market: Market, equipment: Set<String>, servicingDealer: DealerID? = nil) {
        self.vin = vin
        self.model = model
        self.modelYear = modelYear
        self.market = market
        self.equipment = equipment
        self.servicingDealer = servicingDealer
    }

    /// Checks what the types alone cannot: the model is display text of at most 40 characters,
    /// the model year 1980–2100, and each equipment code 1 to 16
    /// capital letters or digits.
    /// - Throws: ``EntitlementError`` `request_invalid` naming the field.
    public func validate() throws {
        try DisplayText.check(model, "model", maxLength: 40)
        guard (1980...2100).contains(modelYear) else {
            throw EntitlementError(.requestInvalid, "model_year \(modelYear) is outside 1980–2100")
        }
        guard equipment.count <= 200 else { throw EntitlementError(.requestInvalid, "equipment lists at most 200 codes") }
        for code in equipment.sorted() {
            guard (1...16).contains(code.utf8.count), code.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
                throw EntitlementError(.requestInvalid, "equipment code \"\(code.prefix(20))\" must be 1 to 16 capital letters or digits")
            }
        }
    }
}

/// The vehicle document: a registration (`POST /v1/vehicles`) and an entry of the vehicles
/// fixture file are the same document, read by this one decoder (through ``StrictJSON``).
extension Vehicle: StrictDecodable, CodingKeyed, Encodable {
    public enum Keys: String, CodingKey, CaseIterable {
        case vin, model
        case modelYear = "model_year"
        case market, equipment
        case dealerID = "dealer_id"
    }

    /// Reads the members' JSON types first (a missing or mistyped member is reported before a
    /// value is judged), then validates the VIN, market and dealer id.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let vin = try container.decode(String.self, forKey: .vin)
        let model = try container.decode(String.self, forKey: .model)
        let modelYear = try container.decode(Int.self, forKey: .modelYear)
        let market = try container.decode(String.self, forKey: .market)
        let equipment = try container.decodeIfPresent([String].self, forKey: .equipment) ?? []
        let dealer = try container.decodeIfPresent(String.self, forKey: .dealerID)
        self.init(vin: try VIN(vin), model: model, modelYear: modelYear, market: try Market(market), equipment: Set(equipment),
                  servicingDealer: try dealer.map { try DealerID($0) })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(vin, forKey: .vin)
        try container.encode(model, forKey: .model)
        try container.encode(modelYear, forKey: .modelYear)
        try container.encode(market, forKey: .market)
        try container.encode(equipment.sorted(), forKey: .equipment)
        try container.encode(servicingDealer, forKey: .dealerID)
    }
}
