import FoDCore

extension Catalog {
    /// Reads a catalog file (see `fixtures/catalog.json`).
    /// - Throws: ``EntitlementError`` `json_malformed` or `request_invalid`, naming the feature.
    public init(json text: String) throws {
        guard case .object(let root) = try JSONParser.parse(text) else { throw EntitlementError(.requestInvalid, "a catalog is a JSON object") }
        func fail(_ message: String) -> EntitlementError { EntitlementError(.requestInvalid, "catalog: \(message)") }
        guard let version = root["version"]?.string else { throw fail("\"version\" is required") }
        guard case .array(let list)? = root["features"] else { throw fail("\"features\" must be an array") }
        var names: [String: String] = [:]
        if case .object(let equipment)? = root["equipment_names"] {
            for member in equipment.members { names[member.name] = member.value.string ?? member.name }
        }
        var features: [CatalogFeature] = []
        for element in list {
            guard case .object(let object) = element, let codeText = object["code"]?.string else { throw fail("every feature needs a \"code\"") }
            let code = try FeatureCode(codeText)
            func strings(_ name: String) throws -> [String] {
                guard let value = object[name] else { return [] }
                guard case .array(let items) = value else { throw fail("feature \(code): \"\(name)\" must be an array of strings") }
                return try items.map { guard let text = $0.string else { throw fail("feature \(code): \"\(name)\" must be an array of strings") }; return text }
            }
            var prices: [Price] = []
            guard case .array(let priceList)? = object["prices"] else { throw fail("feature \(code): \"prices\" must be an array") }
            for entry in priceList {
                guard case .object(let price) = entry, let marketCode = price["market"]?.string, let currencyCode = price["currency"]?.string,
                      let vatBps = price["vat_bps"]?.int64, let vat = try? BasisPoints(vatBps), case .object(let terms)? = price["terms"] else {
                    throw fail("feature \(code): each price needs market, currency, vat_bps (0–10000) and terms")
                }
                let market: Market, currency: Currency
                do { market = try Market(marketCode); currency = try Currency(currencyCode) } catch let error as CoreError {
                    throw fail("feature \(code): \(error.reason)")
                }
                for term in terms.members {
                    guard let gross = term.value.int64, gross >= 0 else { throw fail("feature \(code): price of \(term.name) must be a non-negative integer") }
                    prices.append(Price(market: market, term: try Term(validating: term.name), gross: Money(minor: gross, currency), vat: vat))
                }
            }
            var transferable = true
            if let value = object["transferable"] {
                guard case .bool(let flag) = value else { throw fail("feature \(code): \"transferable\" must be true or false") }
                transferable = flag
            }
            features.append(CatalogFeature(
                code: code, name: object["name"]?.string ?? code.value, models: Set(try strings("models")),
                minModelYear: object["min_model_year"]?.int64.map(Int.init), requires: try strings("requires"),
                excludes: try strings("excludes"), prices: prices, transferable: transferable))
        }
        self.init(version: version, features: features, equipmentNames: names)
    }
}

extension Catalog {
    /// The catalog as the document ``init(json:)`` reads (members in a fixed order: the same catalog
    /// is the same text).
    public var json: String {
        var features: [JSONValue] = []
        for feature in self.features {
            var members: [JSONObject.Member] = [.init(name: "code", value: .string(feature.code.value)), .init(name: "name", value: .string(feature.name))]
            if !feature.models.isEmpty { members.append(.init(name: "models", value: .array(feature.models.sorted().map(JSONValue.string)))) }
            if let year = feature.minModelYear { members.append(.init(name: "min_model_year", value: .number(String(year)))) }
            if !feature.requires.isEmpty { members.append(.init(name: "requires", value: .array(feature.requires.map(JSONValue.string)))) }
            if !feature.excludes.isEmpty { members.append(.init(name: "excludes", value: .array(feature.excludes.map(JSONValue.string)))) }
            if !feature.transferable { members.append(.init(name: "transferable", value: .bool(false))) }
            // Prices grouped by market (with its currency and VAT rate), terms in catalog order.
            var groups: [(market: Market, currency: Currency, vat: BasisPoints, terms: [JSONObject.Member])] = []
            for price in feature.prices {
                if let index = groups.firstIndex(where: { $0.market == price.market && $0.currency == price.currency && $0.vat == price.vat }) {
                    groups[index].terms.append(.init(name: price.term.rawValue, value: .number(String(price.gross.minor))))
                } else {
                    groups.append((price.market, price.currency, price.vat, [.init(name: price.term.rawValue, value: .number(String(price.gross.minor)))]))
                }
            }
            members.append(.init(name: "prices", value: .array(groups.map { group in
                .object(JSONObject(members: [.init(name: "market", value: .string(group.market.code)), .init(name: "currency", value: .string(group.currency.code)),
                                             .init(name: "vat_bps", value: .number(String(group.vat.value))), .init(name: "terms", value: .object(JSONObject(members: group.terms)))]))
            })))
            features.append(.object(JSONObject(members: members)))
        }
        let names = equipmentNames.sorted { $0.key < $1.key }.map { JSONObject.Member(name: $0.key, value: .string($0.value)) }
        return JSONWriter.text(.object(JSONObject(members: [.init(name: "version", value: .string(version)),
                                                          .init(name: "equipment_names", value: .object(JSONObject(members: names))),
                                                          .init(name: "features", value: .array(features))])))
    }
}
