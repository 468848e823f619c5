import Foundation
import Testing
@testable import YingtongGenerate
import YingtongModel

/// The committed demo-county fixtures use the dictionary's vocabulary: every 107-2 and 107-1 header cell names
/// exactly one field (or is an identity column), so a reader that fails on them has a bug, not the fixture.
@Suite struct DemoCountyFixtureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/demo-county")

    /// The first `n` CRLF lines of a GB18030 file, decoded one by one (the 2023 file has a planted bad byte
    /// further down, which must not stop us reading its header).
    func headLines(_ url: URL, _ n: Int) throws -> [String] {
        let data = [UInt8](try Data(contentsOf: url))
        var lines: [String] = []
        var start = 0
        let dec = try IconvConverter(from: "GB18030", to: "UTF-8")
        for i in 0..<(data.count - 1) where data[i] == 0x0D && data[i + 1] == 0x0A {
            lines.append(String(decoding: try dec.convert(Array(data[start..<i])), as: UTF8.self))
            start = i + 2
            if lines.count == n { break }
        }
        return lines
    }

    @Test(arguments: [2022, 2023])
    func activityHeadersResolve(period: Int) throws {
        let lines = try headLines(Self.root.appendingPathComponent("\(period)/107-2_研发活动.csv"), 3)
        #expect(lines[0].hasPrefix("企业研究开发活动及相关情况（\(period)年）"))
        let header = csvRecords(lines[1])[0]
        let dict = FieldDictionary.standard
        var codes: [String] = []
        for label in header {
            let found = dict.candidates(forLabel: label, form: .activity)
            #expect(found.count == 1, "\(label) → \(found.map(\.code))")
            codes += found.map(\.code)
        }
        #expect(Set(codes).count == header.count, "no two columns name the same field")
        for label in header {
            if let (_, unit) = HeaderText.splitUnit(label) { #expect(["千元", "万元"].contains(unit), "\(label)") }
        }
    }

    @Test(arguments: [2022, 2023])
    func projectHeadersResolve(period: Int) throws {
        let lines = try headLines(Self.root.appendingPathComponent("\(period)/107-1_研发项目.csv"), 1)
        for label in csvRecords(lines[0])[0] {
            #expect(FieldDictionary.standard.candidates(forLabel: label, form: .projects).count == 1, "\(label)")
        }
    }
}
