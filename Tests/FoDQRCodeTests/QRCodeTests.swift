import FoDQRCode
import FoDTestSupport
import Foundation
import Testing

@Suite("QR codes")
struct QRCodeTests {
    /// Data of every length class across versions 1…40, all four levels, fixed and chosen masks:
    /// python-qrcode makes the same modules and zxing-cpp reads the data back.
    struct Case: Codable {
        let data_hex: String
        let level: String
        let version: Int
        let mask: Int
        let rows: [String]
    }

    struct Answer: Codable {
        let reference_equal: Bool
        let decoded_hex: String?
    }

    /// Data of every length class across versions 1…40, all four levels, fixed and chosen masks:
    /// python-qrcode makes the same modules and zxing-cpp reads the data back.
    @Test func matchesPythonQRCodeAndDecodesWithZXing() throws {
        var generator = SystemRandomNumberGenerator()
        var cases: [Case] = []
        for level in QRErrorCorrection.allCases {
            for length in [1, 7, 17, 32, 60, 100, 180, 250, 400, 470, 700, 1000, 1500, 2000] {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let mask = length % 3 == 0 ? nil : length % 8
                guard let code = try? QRCode(bytes: bytes, errorCorrection: level, mask: mask) else {
                    // Only data longer than what version 40 holds at this level may be refused.
                    #expect(throws: QRError.self) { try QRCode(bytes: bytes, errorCorrection: level, version: 40) }
                    continue
                }
                let rows = (0..<code.size).map { y in String((0..<code.size).map { code[$0, y] ? "1" : "0" }) }
                cases.append(Case(data_hex: bytes.map { String(format: "%02x", $0) }.joined(), level: ["L", "M", "Q", "H"][level.rawValue],
                                  version: code.version, mask: code.mask, rows: rows))
            }
        }
        #expect(cases.count >= 50)
        #expect(Set(cases.map(\.version)).count >= 25)
        let input = String(decoding: try JSONEncoder().encode(cases), as: UTF8.self)
        let result = try ProcessRunner.run("python3", [TestPaths.repository.appendingPathComponent("scripts/interop/qr_check.py").path], input: input)
        try #require(result.status == 0, "\(result.diagnosis)")
        let answers = try JSONDecoder().decode([Answer].self, from: Data(result.stdout.utf8))
        #expect(answers.count == cases.count)
        for (answer, sent) in zip(answers, cases) {
            let name = "version \(sent.version) level \(sent.level) mask \(sent.mask)"
            #expect(answer.reference_equal, "python-qrcode differs: \(name)")
            #expect(answer.decoded_hex == sent.data_hex, "does not read back: \(name)")
        }
    }

    @Test func picksTheSmallestVersionAndRejectsOversizedData() throws {
        #expect(try QRCode(bytes: Array(repeating: 0x41, count: 14), errorCorrection: .medium).version == 1)
        #expect(try QRCode(bytes: Array(repeating: 0x41, count: 15), errorCorrection: .medium).version == 2)
        #expect(try QRCode(bytes: Array(repeating: 0x41, count: 2331), errorCorrection: .medium).version == 40)
        #expect(throws: QRError.dataTooLong(bytes: 2332, level: .medium)) { try QRCode(bytes: Array(repeating: 0x41, count: 2332)) }
        #expect(throws: QRError.self) { try QRCode(bytes: [1], mask: 8) }
    }

    @Test func svgHasQuietZoneAndEscapedLabel() throws {
        let code = try QRCode(text: "fod")
        let svg = code.svg(label: "token <&\">")
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 29 29\""))
        #expect(svg.contains("aria-label=\"token &lt;&amp;&quot;&gt;\""))
        // Every dark module is drawn once: the path's run widths add up to the dark count.
        let widths = svg.split(separator: "h").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(widths.reduce(0, +) == code.modules.filter { $0 }.count)
    }
}
