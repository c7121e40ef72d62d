import ArgumentParser
import FoDCrypto
import FoDEntitlements
import Foundation

/// `fod inspect`.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a token's header and claims WITHOUT verifying anything.",
        discussion: "The output is marked \"verified\": false. Use `fod verify` before trusting any of it."
    )

    @Argument(help: "The token, a file holding it, or - for standard input.")
    var token: String

    func run() throws {
        try CLIError.run {
            let jws = try CompactJWS(try CLIInput.token(token), maxLength: 1 << 20)
            func shown(_ bytes: [UInt8]) -> JSONValue {
                (try? JSONParser.parse(bytes)) ?? .string(String(decoding: bytes, as: UTF8.self))
            }
            let output = JSONValue.object(JSONObject(members: [
                .init(name: "verified", value: .bool(false)),
                .init(name: "header", value: shown(jws.headerBytes)),
                .init(name: "claims", value: shown(jws.payload)),
                .init(name: "signatureBytes", value: .number(String(jws.signature.count))),
            ]))
            FileHandle.standardError.write(Data("UNVERIFIED: nothing below has been checked\n".utf8))
            print(JSONWriter.text(output, indent: 2))
        }
    }
}
