import FoDCrypto

/// Root metadata as a JWS in the JSON General Serialization (RFC 7515 §7.2.1): one payload, one
/// signature per root key, each with its own protected header `{alg, kid, typ: fod-root+json}` —
/// so any JOSE library can check each signature on its own.
public struct SignedRoot: Sendable {
    /// The `typ` of every signature's protected header.
    public static let type = "fod-root+json"

    /// One signature, as written.
    public struct Signature: Sendable {
        /// The protected header, base64url as written (part of the signing input).
        public let protected: String
        /// The signature bytes.
        public let signature: [UInt8]
        /// The header's `alg`, `kid` and `typ`, when it is a header fod can use; `nil` otherwise
        /// (the signature then counts for nothing).
        let header: JWSHeader?

        /// The `kid` the signature names, when its header is usable.
        public var keyID: String? { header?.keyID }
    }

    /// The verified-to-be-well-formed claims.
    public let metadata: RootMetadata
    /// The payload, base64url as written.
    public let payload: String
    /// The signatures, in document order.
    public let signatures: [Signature]

    /// Reads a root document. It need not be signed enough to be read (`fod trust sign` adds
    /// signatures); ``TrustStore`` decides whether it is trusted.
    /// - Throws: ``EntitlementError`` `root_malformed` (size, serialization, base64url, claims).
    public init(json text: String) throws {
        func fail(_ reason: String) -> EntitlementError { EntitlementError(.rootMalformed, reason) }
        guard text.utf8.count <= RootMetadata.maxLength else { throw fail("the document is over \(RootMetadata.maxLength / 1024) KiB") }
        let object: JSONObject
        do {
            guard case .object(let parsed) = try JSONParser.parse(text) else { throw fail("the document is not a JSON object") }
            object = parsed
        } catch let error as EntitlementError where error.code == .jsonMalformed || error.code == .jsonDuplicateMember {
            throw fail("the document is not valid JSON: \(error.reason)")
        }
        for member in object.members where member.name != "payload" && member.name != "signatures" {
            throw fail("the document has \"\(member.name.prefix(40))\"; a root is the JSON General Serialization: payload and signatures")
        }
        guard let payload = object["payload"]?.string else { throw fail("\"payload\" is missing or not a string") }
        guard let list = object["signatures"]?.elements else { throw fail("\"signatures\" is missing or not an array") }
        var signatures: [Signature] = []
        for (index, element) in list.enumerated() {
            guard case .object(let entry) = element else { throw fail("signature \(index) is not an object") }
            for member in entry.members where member.name != "protected" && member.name != "signature" {
                throw fail("signature \(index) has \"\(member.name.prefix(40))\"; only protected and signature are allowed (no unprotected header)")
            }
            guard let protected = entry["protected"]?.string, let signature = entry["signature"]?.string else {
                throw fail("signature \(index) lacks protected or signature as strings")
            }
            let headerBytes: [UInt8], signatureBytes: [UInt8]
            do {
                headerBytes = try Base64URL.decode(protected)
                signatureBytes = try Base64URL.decode(signature)
            } catch {
                throw fail("signature \(index) is not canonical base64url")
            }
            let header = try? JWSHeader(bytes: headerBytes, expectedType: nil, requireKeyID: true)
            let usable = header.flatMap { $0.type.map { TokenType.mediaType($0) == TokenType.mediaType(SignedRoot.type) } } ?? false
            signatures.append(Signature(protected: protected, signature: signatureBytes, header: usable ? header : nil))
        }
        let payloadBytes: [UInt8]
        do { payloadBytes = try Base64URL.decode(payload) } catch { throw fail("the payload is not canonical base64url") }
        self.metadata = try RootMetadata(jsonBytes: payloadBytes)
        self.payload = payload
        self.signatures = signatures
    }

    /// Unsigned root metadata (each root holder then adds a signature).
    /// - Throws: ``EntitlementError`` `root_malformed` when the metadata does not validate.
    public init(unsigned metadata: RootMetadata) throws {
        try metadata.validate()
        self.metadata = metadata
        self.payload = Base64URL.encode(try metadata.jsonBytes())
        self.signatures = []
    }

    private init(metadata: RootMetadata, payload: String, signatures: [Signature]) {
        self.metadata = metadata
        self.payload = payload
        self.signatures = signatures
    }

    /// The document with one more signature, by `key` under `keyID` (by default: the id this
    /// version gives the key among its root keys, else the key's thumbprint).
    /// - Throws: ``EntitlementError`` `signing_failed`.
    public func signed(by key: PrivateKey, keyID: String? = nil) throws -> SignedRoot {
        let kid = keyID ?? metadata.rootKeys.first { $0.publicKey == key.publicKey }?.keyID ?? key.keyID
        var writer = JSONWriter(capacity: 128)
        writer.raw("{\"alg\":"); writer.string(key.algorithm.jwsName)
        writer.raw(",\"kid\":"); writer.string(kid)
        writer.raw(",\"typ\":"); writer.string(SignedRoot.type)
        writer.raw("}")
        let protected = Base64URL.encode(writer.bytes)
        let signature: [UInt8]
        do { signature = try key.signature(for: Array("\(protected).\(payload)".utf8)) } catch {
            throw EntitlementError(.signingFailed, "cannot sign the root: \(error)")
        }
        let header = JWSHeader(algorithm: key.algorithm, keyID: kid, type: SignedRoot.type)
        return SignedRoot(metadata: metadata, payload: payload, signatures: signatures + [Signature(protected: protected, signature: signature, header: header)])
    }

    /// The ids of the keys among `keys` with a valid signature — each key once, however often it
    /// signed; signatures by other keys, with an unusable header, or that do not verify count for nothing.
    public func signers(among keys: [TrustedKey]) -> Set<String> {
        let byID = Dictionary(keys.map { ($0.keyID, $0) }, uniquingKeysWith: { first, _ in first })
        var valid: Set<String> = []
        for entry in signatures {
            guard let header = entry.header, let kid = header.keyID, !valid.contains(kid), let key = byID[kid],
                  key.publicKey.algorithm == header.algorithm, entry.signature.count == header.algorithm.signatureLength else { continue }
            if (try? key.publicKey.verify(signature: entry.signature, for: Array("\(entry.protected).\(payload)".utf8))) != nil {
                valid.insert(kid)
            }
        }
        return valid
    }

    /// The document as JSON (General Serialization).
    public func json(indent: Int = 2) -> String {
        let object = JSONObject(members: [
            .init(name: "payload", value: .string(payload)),
            .init(name: "signatures", value: .array(signatures.map { entry in
                .object(JSONObject(members: [.init(name: "protected", value: .string(entry.protected)),
                                             .init(name: "signature", value: .string(Base64URL.encode(entry.signature)))]))
            })),
        ])
        return JSONWriter.text(.object(object), indent: indent)
    }
}
