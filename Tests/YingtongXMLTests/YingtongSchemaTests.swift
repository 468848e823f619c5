import Foundation
import Testing
import YingtongIngest
import YingtongModel
@testable import YingtongXML

/// The FORMATS §3 example, extended with a second enterprise that inherits the report's period.
let sampleReport = """
<?xml version="1.0" encoding="ENCODING"?>
<RDReport xmlns="urn:yingtong:rd:1" period="2023" source="bureau" preparedAt="2024-03-20T09:00:00+08:00">
  <Enterprise uscc="91330122MA2H3K6J0M" name="某某精密机械有限公司" region="330122" industry="3484"
              submittedAt="2024-03-15T10:02:00+08:00">
    <Value field="rd_staff_total">35</Value>
    <Value field="rd_exp_total" unit="万元">1234.5</Value>
    <Value field="人员人工费用" unit="千元">5600</Value>
    <Project name="高精度伺服阀芯加工工艺研究" source="1" mode="10" resultForm="13" target="4"
             start="202203" end="202406" stage="2">
      <Value field="staff">8</Value>
      <Value field="person_months">60</Value>
      <Value field="exp">3200</Value>
    </Project>
    <Note rule="R212">本年度尚未享受加计扣除政策，次年汇算清缴时申报</Note>
  </Enterprise>
  <Enterprise uscc="91330122MA2H3K6J0M" name="桐庐𠀀电子有限公司" region="330122" industry="3911" period="2024">
    <Value field="研究开发费用合计">88</Value>
  </Enterprise>
  <Enterprise uscc="913301227352814433" name="第三家" region="330122" industry="3911">
    <Value field="rd_staff_total">  12 </Value>
  </Enterprise>
</RDReport>

"""

@Suite("yingtong XML schema")
struct YingtongSchemaTests {
    func checkSample(_ sink: CollectingSink, _ account: LineAccount) {
        let rows = sink.rows(of: .activity)
        #expect(rows.count == 3)
        #expect(rows[0]["uscc"] == "91330122MA2H3K6J0M")
        #expect(rows[0]["name"] == "某某精密机械有限公司")
        #expect(rows[0]["region_code"] == "330122")
        #expect(rows[0]["industry_code"] == "3484")
        #expect(rows[0]["period"] == "2023")
        #expect(rows[0]["submitted_at"] == "2024-03-15T10:02:00+08:00")
        #expect(rows[0]["rd_staff_total"] == "35")
        #expect(rows[0]["rd_exp_total"] == "1234.5")
        #expect(rows[0]["rd_exp_labor"] == "5600", "a Chinese field name resolves through the dictionary")
        #expect(rows[1]["name"] == "桐庐𠀀电子有限公司", "a 4-byte GB18030 character survives")
        #expect(rows[1]["period"] == "2024", "the Enterprise's period wins over the report's")
        #expect(rows[1]["rd_exp_total"] == "88")
        #expect(rows[2]["period"] == "2023", "the report's period stands in")
        #expect(rows[2]["rd_staff_total"] == "12")
        let units = sink.units(of: .activity)
        #expect(units[0] == ["rd_exp_total": "万元", "rd_exp_labor": "千元"])
        #expect(units[1].isEmpty)

        let projects = sink.rows(of: .projects)
        #expect(projects.count == 1)
        #expect(projects[0]["uscc"] == "91330122MA2H3K6J0M")
        #expect(projects[0]["project_name"] == "高精度伺服阀芯加工工艺研究")
        #expect(projects[0]["source"] == "1")
        #expect(projects[0]["result_form"] == "13")
        #expect(projects[0]["start_ym"] == "202203")
        #expect(projects[0]["end_ym"] == "202406")
        #expect(projects[0]["stage"] == "2")
        #expect(projects[0]["staff"] == "8")
        #expect(projects[0]["person_months"] == "60")
        #expect(projects[0]["exp"] == "3200")

        #expect(sink.explanations.count == 1)
        #expect(sink.explanations.first?.rule == "R212")
        #expect(sink.explanations.first?.period == 2023)
        #expect(sink.explanations.first?.text == "本年度尚未享受加计扣除政策，次年汇算清缴时申报")
        #expect(sink.explanations.first?.line == 14)
        #expect(sink.quarantined.isEmpty)

        let prov = sink.provenance(of: .activity)
        #expect(prov[0].elementPath == "/RDReport/Enterprise[1]")
        #expect(prov[0].line == 3 && prov[0].lineEnd == 15)
        #expect(prov[1].elementPath == "/RDReport/Enterprise[2]")
        #expect(prov[1].line == 16 && prov[1].lineEnd == 18)
        #expect(prov[0].sourceIndex == 3)
        let pprov = sink.provenance(of: .projects)
        #expect(pprov[0].elementPath == "/RDReport/Enterprise[1]/Project[1]")
        #expect(pprov[0].line == 8 && pprov[0].lineEnd == 13)

        #expect(account.records == 3)
        #expect(account.physicalLines == 22)
        #expect(account.recordLines == 13 + 3 + 3)
        #expect(account.balanced)
    }

    @Test func readsCodesChineseNamesUnitsProjectsAndNotes() throws {
        let path = try temporaryFile("utf8.xml", sampleReport.replacingOccurrences(of: "ENCODING", with: "UTF-8"))
        let (sink, account) = try readYingtong(path)
        checkSample(sink, account)
        let raw = sink.batches(of: .activity)[0].rawText(0)
        #expect(raw.hasPrefix("<Enterprise uscc=\"91330122MA2H3K6J0M\""))
        #expect(raw.contains("<Value field=\"rd_exp_total\" unit=\"万元\">1234.5</Value>"))
    }

    @Test func readsGB18030() throws {
        let text = sampleReport.replacingOccurrences(of: "ENCODING", with: "GB18030")
        let data = try encode(text, as: "GB18030")
        #expect(data.count < text.utf8.count, "the file really is GB18030, not UTF-8")
        let (sink, account) = try readYingtong(try temporaryFile("gb.xml", data))
        checkSample(sink, account)
        #expect(account.encoding.uppercased() == "GB18030")
    }

    @Test func readsGBKDeclaration() throws {
        let text = sampleReport.replacingOccurrences(of: "ENCODING", with: "GBK")
            .replacingOccurrences(of: "𠀀", with: "")
        let (sink, _) = try readYingtong(try temporaryFile("gbk.xml", try encode(text, as: "GBK")))
        #expect(sink.rows(of: .activity).map { $0["name"] } == ["某某精密机械有限公司", "桐庐电子有限公司", "第三家"])
    }

    @Test func readsUTF16WithBOM() throws {
        let text = sampleReport.replacingOccurrences(of: "ENCODING", with: "UTF-16")
        var data = Data([0xFF, 0xFE])
        for unit in text.utf16 { data.append(UInt8(unit & 0xFF)); data.append(UInt8(unit >> 8)) }
        let (sink, account) = try readYingtong(try temporaryFile("utf16.xml", data))
        checkSample(sink, account)
    }

    @Test func sameFieldTwiceQuarantinesTheEnterprise() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <RDReport xmlns="urn:yingtong:rd:1" period="2023">
          <Enterprise uscc="91330122MA2H3K6J0M" name="甲" region="330122" industry="3484">
            <Value field="rd_exp_total">10</Value>
            <Value field="研究开发费用合计">12</Value>
          </Enterprise>
          <Enterprise uscc="913301227352814433" name="乙" region="330122" industry="3484">
            <Value field="rd_exp_total">20</Value>
          </Enterprise>
        </RDReport>
        """
        let (sink, account) = try readYingtong(try temporaryFile("dup.xml", xml))
        #expect(sink.rows(of: .activity).map { $0["name"] } == ["乙"])
        #expect(sink.quarantined.count == 1)
        let q = try #require(sink.quarantined.first)
        #expect(q.code == "E-XML-DUPLICATE-FIELD")
        #expect(q.line == 3 && q.lineEnd == 6)
        #expect(q.elementPath == "/RDReport/Enterprise[1]")
        #expect(q.messageZh.contains("rd_exp_total") && q.messageZh.contains("第 4 行") && q.messageZh.contains("第 5 行"))
        #expect(q.raw.contains("研究开发费用合计"))
        #expect(account.records == 1 && account.quarantinedRecords == 1)
        #expect(account.quarantinedLines == 4 && account.recordLines == 3)
        #expect(account.balanced)
    }

    @Test(arguments: [
        ("uscc=\"\"", "E-ID-USCC-MISSING"),
        ("uscc=\"——\"", "E-ID-USCC-MISSING"),
        ("uscc=\"9.13301E+17\"", "E-ID-USCC-EXCEL"),
        ("uscc=\"91330122MA2H3K6\"", "E-ID-USCC"),
        ("uscc=\"91330122MA2H3K6J0M\" period=\"去年\"", "E-ID-PERIOD"),
        ("uscc=\"91330122MA2H3K6J0M\" region=\"3301\"", "E-ID-REGION"),
    ])
    func badIdentityQuarantinesTheEnterprise(attributes: String, code: String) throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <RDReport xmlns="urn:yingtong:rd:1" period="2023">
          <Enterprise \(attributes) name="甲">
            <Value field="rd_exp_total">10</Value>
            <Project name="p"><Value field="exp">1</Value></Project>
          </Enterprise>
          <Enterprise uscc="913301227352814433" name="乙">
            <Value field="rd_exp_total">abc</Value>
          </Enterprise>
        </RDReport>
        """
        let (sink, account) = try readYingtong(try temporaryFile("id.xml", xml))
        #expect(sink.quarantined.map(\.code) == [code])
        #expect(sink.quarantined.first?.elementPath == "/RDReport/Enterprise[1]")
        #expect(sink.rows(of: .projects).isEmpty, "the quarantined enterprise's projects go with it")
        // A bad value is normalization's business: the record is passed on with the text as written.
        #expect(sink.rows(of: .activity).map { $0["rd_exp_total"] } == ["abc"])
        #expect(account.balanced)
    }

    @Test func wrongCheckCharacterIsLeftToRuleV001() throws {
        let xml = """
        <RDReport xmlns="urn:yingtong:rd:1" period="2023"><Enterprise uscc="91330122MA2H3K6J0A" name="甲"/></RDReport>
        """
        let (sink, _) = try readYingtong(try temporaryFile("v001.xml", xml))
        #expect(sink.quarantined.isEmpty)
        #expect(sink.rows(of: .activity).first?["uscc"] == "91330122MA2H3K6J0A")
    }

    @Test func valueOfAnotherFormQuarantinesOnlyThatValue() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <RDReport xmlns="urn:yingtong:rd:1" period="2023">
          <Enterprise uscc="91330122MA2H3K6J0M" name="甲">
            <Value field="exp">10</Value>
            <Value field="rd_staff_total">3</Value>
            <Value field="nonexistent_field">3</Value>
          </Enterprise>
        </RDReport>
        """
        let (sink, account) = try readYingtong(try temporaryFile("form.xml", xml))
        #expect(sink.rows(of: .activity).first?["rd_staff_total"] == "3")
        #expect(sink.quarantined.map(\.code) == ["E-XML-FIELD-FORM"])
        #expect(sink.quarantined.first?.field == "exp")
        #expect(sink.quarantined.first?.line == 4)
        #expect(sink.notices.contains { $0.contains("nonexistent_field") })
        #expect(account.records == 1 && account.balanced)
    }

    @Test func truncatedBureauFileKeepsEveryCompleteEnterpriseBeforeTheFault() throws {
        let full = temporaryURL("bureau.xml")
        defer { try? FileManager.default.removeItem(at: full) }
        try BureauXMLWriter.write(enterprises: 400, seed: 11, to: full, encoding: "UTF-8")
        let bytes = try Data(contentsOf: full)
        let cut = bytes.prefix(bytes.count * 3 / 5)
        let prefixText = String(decoding: cut, as: UTF8.self)
        let complete = prefixText.components(separatedBy: "</Enterprise>").count - 1
        let path = try temporaryFile("truncated.xml", Data(cut) + Data("\n  <Broken>\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (sink, account) = try readYingtong(path, batchSize: 64)

        #expect(complete > 100)
        #expect(account.records == complete)
        #expect(sink.rows(of: .activity).count == complete)
        #expect(sink.quarantined.count == 1)
        let q = try #require(sink.quarantined.first)
        #expect(q.code == "E-XML-MALFORMED")
        #expect(q.lineEnd == Int32(account.physicalLines))
        #expect(q.elementPath == "/RDReport/Enterprise[\(complete + 1)]")
        #expect(q.messageZh.contains("第 \(q.line) 行至文件末尾"))
        #expect(q.messageZh.contains("此前完整的 \(complete) 个企业已正常读取"))
        #expect(account.quarantinedRecords == 1)
        #expect(account.quarantinedLines == Int(q.lineEnd - q.line + 1))
        #expect(account.balanced)
        let last = try #require(sink.provenance(of: .activity).last)
        #expect(last.lineEnd < q.line)
    }

    @Test func generatedBureauFileReadsCleanAndIsReproducible() throws {
        let a = temporaryURL("gen-a.xml")
        let b = temporaryURL("gen-b.xml")
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        try BureauXMLWriter.write(enterprises: 120, seed: 5, to: a)
        try BureauXMLWriter.write(enterprises: 120, seed: 5, to: b)
        #expect(try Data(contentsOf: a) == Data(contentsOf: b))
        let head = String(decoding: try Data(contentsOf: a).prefix(40), as: UTF8.self)
        #expect(head.contains("GB18030"))
        let (sink, account) = try readYingtong(a.path, batchSize: 50)
        #expect(account.records == 120)
        #expect(sink.quarantined.isEmpty)
        #expect(sink.batches(of: .activity).count == 3, "batches of at most 50")
        #expect(sink.rows(of: .activity).allSatisfy { USCC.isValid($0["uscc"] ?? "") && $0["period"] == "2023" })
        #expect(account.balanced)
        #expect(account.recordLines > account.layoutLines)
        #expect(account.layoutLines == 3, "declaration, RDReport start and end")
    }

    @Test func depthLimitRefusesTheRest() throws {
        var xml = "<RDReport xmlns=\"urn:yingtong:rd:1\" period=\"2023\">\n<Enterprise uscc=\"91330122MA2H3K6J0M\"/>\n"
        for _ in 0..<30 { xml += "<x>" }
        for _ in 0..<30 { xml += "</x>" }
        xml += "\n</RDReport>\n"
        let (sink, account) = try readYingtong(try temporaryFile("deep.xml", xml), limits: XMLLimits(maxDepth: 10))
        #expect(account.records == 1)
        #expect(sink.quarantined.map(\.code) == ["E-XML-LIMIT"])
        #expect(account.balanced)
    }

    @Test func aRecordWithTooManyElementsIsQuarantinedNotHeld() throws {
        var xml = "<RDReport xmlns=\"urn:yingtong:rd:1\" period=\"2023\">\n<Enterprise uscc=\"91330122MA2H3K6J0M\">\n"
        for i in 0..<50 { xml += "<Project name=\"p\(i)\"><Value field=\"exp\">1</Value></Project>\n" }
        xml += "</Enterprise>\n<Enterprise uscc=\"913301227352814433\"><Value field=\"rd_staff_total\">1</Value></Enterprise>\n</RDReport>\n"
        let (sink, account) = try readYingtong(try temporaryFile("many.xml", xml),
                                               limits: XMLLimits(maxElementsPerRecord: 40))
        #expect(sink.quarantined.map(\.code) == ["E-XML-LIMIT"])
        #expect(sink.quarantined.first?.elementPath == "/RDReport/Enterprise[1]")
        #expect(sink.rows(of: .activity).map { $0["uscc"] } == ["913301227352814433"], "reading goes on after it")
        #expect(sink.rows(of: .projects).isEmpty)
        #expect(account.balanced)
    }

    @Test func notAYingtongReportIsAnError() throws {
        let path = try temporaryFile("other.xml", "<Other/>")
        #expect(throws: YingtongError.self) { try readYingtong(path) }
        #expect(throws: YingtongError.self) { try readYingtong("/nonexistent/yingtong.xml") }
    }
}

@Suite("yingtong XML faults in the middle of a bureau file")
struct MalformedMiddleTests {
    @Test(arguments: ["UTF-8", "GB18030", "UTF-16", "UTF-8 prefixed"])
    func errorInsideOneEnterpriseKeepsAllBeforeIt(variant: String) throws {
        let encoding = variant.hasSuffix("prefixed") ? "UTF-8" : variant
        let full = temporaryURL("mid.xml")
        defer { try? FileManager.default.removeItem(at: full) }
        try BureauXMLWriter.write(enterprises: 300, seed: 21, to: full, encoding: "UTF-8")
        var lines = String(decoding: try Data(contentsOf: full), as: UTF8.self).components(separatedBy: "\n")
        let starts = lines.indices.filter { lines[$0].hasPrefix("  <Enterprise ") }
        let target = starts[199]
        // An unquoted attribute value: not well-formed, two lines into the 200th enterprise.
        lines.insert("    <Value field=rd_exp_total>1</Value>", at: target + 3)
        var text = lines.joined(separator: "\n").replacingOccurrences(of: "encoding=\"UTF-8\"", with: "encoding=\"\(encoding)\"")
        if variant.hasSuffix("prefixed") {
            // The same document with a namespace prefix on every element: the byte-window re-read cannot find
            // `</Enterprise>`, the whole-prefix replay takes over.
            text = text.replacingOccurrences(of: "xmlns=", with: "xmlns:yt=")
            for name in ["RDReport", "Enterprise", "Value", "Project", "Note"] {
                text = text.replacingOccurrences(of: "<\(name)", with: "<yt:\(name)")
                    .replacingOccurrences(of: "</\(name)>", with: "</yt:\(name)>")
            }
        }
        let path = try temporaryFile("mid.xml", try encode(text, as: encoding))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (sink, account) = try readYingtong(path, batchSize: 100)
        #expect(account.records == 199)
        #expect(sink.rows(of: .activity).count == 199)
        let q = try #require(sink.quarantined.first)
        #expect(sink.quarantined.count == 1)
        #expect(q.code == "E-XML-MALFORMED")
        #expect(q.line == Int32(target + 1), "the block starts where the broken enterprise starts")
        #expect(q.messageZh.contains("第 \(target + 4) 行"), "\(q.messageZh)")
        #expect(q.elementPath == "/RDReport/Enterprise[200]")
        if encoding != "UTF-16" {
            #expect(q.raw.contains("Enterprise uscc=") && q.raw.contains("Value field=rd_exp_total>"),
                    "the block keeps the original text, decoded")
            #expect(q.raw.contains("有限公司"))
        }
        #expect(sink.provenance(of: .activity).last?.elementPath == "/RDReport/Enterprise[199]")
        #expect(sink.provenance(of: .activity).last.map { Int($0.lineEnd) } == target)
        #expect(account.balanced)
    }
}

@Suite("yingtong XML: bad input never crashes")
struct DamagedInputTests {
    /// Every prefix (in steps) and a sweep of single-byte corruptions of the sample: the reader either reads
    /// or quarantines, its line account always adds up, and only an unreadable root is an error.
    @Test func truncationsAndCorruptionsAreAlwaysAccounted() throws {
        let text = sampleReport.replacingOccurrences(of: "ENCODING", with: "UTF-8")
        let bytes = Array(text.utf8)
        var variants: [[UInt8]] = []
        for cut in stride(from: 1, to: bytes.count, by: 23) { variants.append(Array(bytes[..<cut])) }
        let junk: [UInt8] = [0x00, 0x26, 0x3C, 0x3E, 0x22, 0xFF, 0xE4]
        for (i, at) in stride(from: 0, to: bytes.count, by: 31).enumerated() {
            var v = bytes
            v[at] = junk[i % junk.count]
            variants.append(v)
        }
        for v in variants {
            let path = try temporaryFile("damaged.xml", Data(v))
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                let (sink, account) = try readYingtong(path)
                #expect(account.balanced, "\(String(decoding: v.prefix(80), as: UTF8.self))")
                #expect(account.records == sink.rows(of: .activity).count)
                for q in sink.quarantined { #expect(!q.code.isEmpty && !q.messageZh.isEmpty) }
            } catch let e as YingtongError {
                #expect(e.code == "E-XML-SCHEMA")
            }
        }
    }
}
