import Foundation
import Testing
import YingtongModel
import YingtongPipeline

/// Resource limits (issue 8, point 4) on small inputs with lowered limits: what is beyond a limit is quarantined
/// with its location and a Chinese reason, everything else is still read, and the line account balances.
/// `scripts/bench-limits` shows memory stays flat at the default limits on the big inputs.
@Suite struct LimitsTests {
    static let header = "统一社会信用代码,单位详细名称,行政区划代码,行业代码,报告期,研究开发人员合计,研究开发费用合计（千元）"
    static let row = "91330727MA2YDM6Y9J,示例县华锐精密机械有限公司,330727,C3481,2023,4,2009.1"
    static let row2 = "91330727MA2NH61Y5P,示例县新材料有限公司,330727,C2641,2023,13,4764.7"

    struct Output {
        var records: [[String: Any]] = []
        var quarantine: [[String: Any]] = []
        var summary: [String: Any] = [:]
        func codes() -> [String] { quarantine.compactMap { $0["code"] as? String } }
    }

    static func read(_ bytes: [UInt8], name: String = "in.csv", _ adjust: (inout InputLimits) -> Void) throws -> Output {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        var limits = InputLimits()
        adjust(&limits)
        var out = Output()
        try Inspector(path: url.path, period: 2023, limits: limits).run { line in
            let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            switch o["kind"] as? String {
            case "record": out.records.append(o)
            case "quarantine": out.quarantine.append(o)
            case "summary": out.summary = o
            default: break
            }
        }
        #expect(out.summary["balanced"] as? Bool == true, "\(out.summary)")
        for q in out.quarantine {
            #expect((q["line"] as? Int ?? 0) >= 1 && containsChinese(q["message"] as? String ?? ""), "\(q)")
        }
        return out
    }

    @Test func aFieldOverTheLimitQuarantinesItsRecordWithTheColumn() throws {
        let out = try Self.read(Array([Self.header, Self.row, Self.row2, ""].joined(separator: "\n").utf8)) {
            $0.maxFieldBytes = 37
        }
        // The 39-byte company name in line 2 is over 37 bytes; the header's longest cell (36) and line 3's are not.
        #expect(out.records.count == 1)
        let q = try #require(out.quarantine.first)
        #expect(q["code"] as? String == "E-LIMIT-FIELD" && q["line"] as? Int == 2 && q["column"] as? Int == 2)
        #expect((q["message"] as? String)?.contains("上限 37 字节") == true)
    }

    @Test func aLineOverTheLimitIsCutAndTheNextLinesAreStillRead() throws {
        let long = "91330727MA2YDM6Y9J," + String(repeating: "长", count: 3000) + ",330727,C3481,2023,4,1"
        let out = try Self.read(Array([Self.header, long, Self.row2, ""].joined(separator: "\n").utf8)) {
            $0.maxLineBytes = 1000
        }
        #expect(out.records.count == 1)
        let q = try #require(out.quarantine.first)
        #expect(q["code"] as? String == "E-CSV-LINE-TOO-LONG" && q["line"] as? Int == 2)
        #expect((q["raw"] as? String ?? "").utf8.count <= 4096)
        #expect((q["message"] as? String)?.contains("\(long.utf8.count) 字节") == true)
    }

    @Test func invalidBytesInACutLineDoNotShiftTheNextLinesEncodingFaults() throws {
        // GB18030 file: line 2 is over the limit and holds an invalid byte; line 3 holds another one.
        var bytes = Array("a,b\n".utf8)
        bytes += Array(repeating: UInt8(ascii: "x"), count: 5000) + [0xFF] + Array(repeating: UInt8(ascii: "y"), count: 10) + [0x0A]
        let line3Offset = bytes.count
        bytes += Array("91330727MA2NH61Y5P,".utf8) + [0x81, 0x0A]
        let out = try Self.read(bytes) { $0.maxLineBytes = 100 }
        let encoding = out.quarantine.filter { $0["code"] as? String == "E-ENCODING" }
        #expect(encoding.count == 1)
        #expect(encoding.first?["line"] as? Int == 3)
        #expect(encoding.first?["byte_offset"] as? Int == line3Offset + 19)
    }

    @Test func aQuotedFieldGrowingPastTheLimitIsABrokenQuoteOnItsFirstLine() throws {
        let lines = [Self.header, "91330727MA2YDM6Y9J,\"没有闭合的引号"] + Array(repeating: Self.row2, count: 20) + [""]
        let out = try Self.read(Array(lines.joined(separator: "\n").utf8)) { $0.maxLineBytes = 500 }
        #expect(out.codes() == ["E-CSV-QUOTE"])
        #expect(out.quarantine.first?["line"] as? Int == 2)
        #expect(out.records.count == 20)
    }

    @Test func aHeaderWiderThanTheLimitQuarantinesTheFile() throws {
        let wide = (1...50).map { "列\($0)" }.joined(separator: ",")
        let out = try Self.read(Array([wide, Self.row, ""].joined(separator: "\n").utf8)) { $0.maxHeaderColumns = 40 }
        #expect(out.records.isEmpty)
        #expect(out.codes() == ["E-LIMIT-HEADER-WIDE", "E-LIMIT-HEADER-WIDE"])
        #expect((out.quarantine.first?["message"] as? String)?.contains("50 列") == true)
        #expect(out.summary["quarantined_lines"] as? Int == 2)
    }

    static let xmlHead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RDReport xmlns=\"urn:yingtong:rd:1\" period=\"2023\">\n"
    static func enterprise(_ uscc: String, name: String = "示例企业") -> String {
        "  <Enterprise uscc=\"\(uscc)\" name=\"\(name)\" region=\"330727\">\n    <Value field=\"rd_staff_total\">4</Value>\n  </Enterprise>\n"
    }

    @Test func xmlDeeperThanTheLimitKeepsTheEnterprisesBeforeIt() throws {
        let xml = Self.xmlHead + Self.enterprise("91330727MA2YDM6Y9J") + "  <Enterprise uscc=\"91330727MA2NH61Y5P\">"
            + String(repeating: "<x>", count: 10) + String(repeating: "</x>", count: 10) + "</Enterprise>\n</RDReport>\n"
        let out = try Self.read(Array(xml.utf8), name: "deep.xml") { $0.maxXMLDepth = 6 }
        #expect(out.records.count == 1)
        #expect(out.codes() == ["E-XML-LIMIT"])
        #expect((out.quarantine.first?["message"] as? String)?.contains("6 层") == true)
    }

    @Test func xmlTextOverTheLimitIsRefusedWithItsLine() throws {
        let xml = Self.xmlHead + Self.enterprise("91330727MA2YDM6Y9J")
            + Self.enterprise("91330727MA2NH61Y5P", name: String(repeating: "名", count: 200)) + "</RDReport>\n"
        let out = try Self.read(Array(xml.utf8), name: "text.xml") { $0.maxXMLTextBytes = 300 }
        #expect(out.records.count == 1)
        #expect(out.codes() == ["E-XML-LIMIT"])
        #expect((out.quarantine.first?["line"] as? Int ?? 0) >= 6)
    }

    @Test func findingsBeyondThePerRecordLimitAreCountedInOneEntry() throws {
        let bad = "91330727MA2YDM6Y9J,坏值公司,330727,C3481,2023,约4,约2009"
        let out = try Self.read(Array([Self.header, bad, Self.row2, ""].joined(separator: "\n").utf8)) {
            $0.maxFindingsPerRecord = 1
        }
        #expect(out.records.count == 2)
        #expect(out.codes().filter { $0 == "E-VALUE-NUMBER" || $0.hasPrefix("E-VALUE") }.count == 1)
        let summary = try #require(out.quarantine.first { $0["code"] as? String == "E-LIMIT-FINDINGS" })
        #expect(summary["line"] as? Int == 2)
        #expect((summary["message"] as? String)?.contains("另有 1 条") == true)
    }

    @Test func thePipelineFileSetsTheLimits() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = """
            pipeline: limits
            region: "330727"
            period: 2023
            store: s.sqlite
            sources:
              - {role: enterprise_rd, form: "107-2", path: "*.csv"}

            """
        let good = dir.appendingPathComponent("good.yaml")
        try (base + "limits: {max_field_bytes: 1000, max_xml_depth: 12, max_findings_per_record: 5}\n")
            .write(to: good, atomically: true, encoding: .utf8)
        let d = try PipelineDefinition.load(path: good.path)
        #expect(d.limits.maxFieldBytes == 1000 && d.limits.maxXMLDepth == 12 && d.limits.maxFindingsPerRecord == 5)
        #expect(d.limits.maxLineBytes == InputLimits().maxLineBytes)

        let defaults = dir.appendingPathComponent("defaults.yaml")
        try base.write(to: defaults, atomically: true, encoding: .utf8)
        #expect(try PipelineDefinition.load(path: defaults.path).limits == InputLimits())

        for bad in ["limits: {max_cells: 3}\n", "limits: {max_field_bytes: -1}\n", "limits: 5\n"] {
            let url = dir.appendingPathComponent("bad.yaml")
            try (base + bad).write(to: url, atomically: true, encoding: .utf8)
            #expect {
                try PipelineDefinition.load(path: url.path)
            } throws: { e in
                (e as? YingtongError).map { $0.code == "E-PIPELINE-FIELD" && $0.messageZh.contains("limits") } ?? false
            }
        }
    }
}
