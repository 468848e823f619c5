import Foundation
import Testing
import YingtongModel
import YingtongIngest
@testable import YingtongNormalize

/// Builds a raw batch as a reader would, from header labels and rows of cell text.
func rawBatch(form: Form, headers: [(String, String?)], rows: [[String?]], defaultMoneyUnit: String? = nil) -> RawBatch {
    let dict = FieldDictionary.standard
    let bindings = headers.enumerated().map { i, h in
        ColumnBinding(sourceColumn: i, field: dict.candidates(forLabel: h.0, form: form).first!, declaredUnit: h.1, header: h.0)
    }
    let source = SourceFile(index: 3, path: "t.csv", role: "enterprise_rd", form: form, defaultMoneyUnit: defaultMoneyUnit)
    var batch = RawBatch(source: source, layout: HeaderLayout(form: form, formVersion: "2021", bindings: bindings,
                                                              unknownColumns: [], headerLine: 1))
    for (r, row) in rows.enumerated() {
        batch.append(cells: row.map { $0.map { ArraySlice(Array($0.utf8)) } },
                     provenance: Provenance(sourceIndex: 3, line: Int32(r + 2), lineEnd: Int32(r + 2), byteOffset: Int64(r * 100)),
                     rawText: row.map { $0 ?? "" }.joined(separator: ","))
    }
    return batch
}

let settings = NormalizeSettings(period: 2023, countyCodes: ["330782"])

@Suite struct NumberTextTests {
    @Test(arguments: [
        ("1,234.5", Int64(1_234_500)), ("１２３．５", 123_500), ("1.2E+07", 12_000_000_000), ("  42 ", 42_000),
        ("-3", -3_000), ("0", 0), ("12.5%", 12_500), ("0.0005", 1), ("0.0004", 0), ("(1,000)", -1_000_000),
        ("123456789012.345", 123_456_789_012_345), ("1.23456E+2", 123_456),
    ])
    func parses(_ text: String, _ raw: Int64) {
        #expect(NumberText.classify(text) == .value(Milli(raw: raw)))
    }

    @Test(arguments: ["XX", "X", "—", "——", "-", "/", "无", "不详", "", "   ", "N/A", "ｘｘ"])
    func placeholdersAreMissingNotZero(_ text: String) {
        #expect(NumberText.classify(text) == .missing)
    }

    @Test(arguments: ["约50", "abc", "1.2.3", "12万", "E5"])
    func garbageIsInvalid(_ text: String) {
        if case .invalid = NumberText.classify(text) {} else { Issue.record("\(text) should be invalid") }
    }
}

@Suite struct NormalizerTests {
    @Test func unitsAreConvertedExactlyToQianYuan() {
        let raw = rawBatch(form: .activity, headers: [("uscc", nil), ("rd_exp_total", "万元"), ("rd_exp_labor", "元"), ("rd_exp_direct", nil), ("rd_exp_other", "亿元")],
                           rows: [["91330782MA2A7K5N23", "1234.5", "1001", "7", "0.01"]])
        let out = Normalizer(settings: settings).normalize(raw, sequenceStart: 0)
        let b = out.records
        #expect(b.column("rd_exp_total")?.milli(0) == Milli(raw: 12_345_000))   // 12345 千元
        #expect(b.column("rd_exp_labor")?.milli(0) == Milli(raw: 1_001))        // 1.001 千元 = 1001 元
        #expect(b.column("rd_exp_direct")?.milli(0) == Milli(raw: 7_000))
        #expect(b.column("rd_exp_other")?.milli(0) == Milli(raw: 1_000_000))    // 0.01 亿元 = 1000 千元
        #expect(b.column("rd_staff_total")?.present[0] == false)
        #expect(out.violations.isEmpty && out.quarantine.isEmpty)
    }

    @Test func sourceDefaultUnitAppliesWhenHeaderNamesNone() {
        let raw = rawBatch(form: .activity, headers: [("uscc", nil), ("rd_exp_total", nil)], rows: [["91330782MA2A7K5N23", "2"]],
                           defaultMoneyUnit: "万元")
        #expect(Normalizer(settings: settings).normalize(raw, sequenceStart: 0).records.column("rd_exp_total")?.milli(0) == Milli(units: 20))
    }

    @Test func badIdentityQuarantinesTheRecordAndBadValueOnlyTheValue() {
        let raw = rawBatch(form: .activity, headers: [("统一社会信用代码", nil), ("研究开发费用合计", nil), ("研究开发人员合计", nil)],
                           rows: [["9.13308E+17", "5", "1"], ["", "5", "1"], ["91330782MA2A7K5N23", "约50", "3"]])
        let out = Normalizer(settings: settings).normalize(raw, sequenceStart: 0)
        #expect(out.records.count == 1)
        #expect(out.quarantine.map(\.code) == ["E-ID-USCC-EXCEL", "E-ID-USCC-MISSING", "E-VALUE-NUMBER"])
        #expect(out.quarantine[0].line == 2 && out.quarantine[0].raw == "9.13308E+17,5,1")
        #expect(out.quarantine[2].field == "rd_exp_total" && out.quarantine[2].raw == "约50")
        #expect(out.records.column("rd_exp_total")?.present[0] == false)
        #expect(out.records.column("rd_staff_total")?.milli(0) == Milli(units: 3))
        #expect(out.quarantinedRecordLines == 2)
    }

    @Test func formatRulesV001ToV005() {
        let raw = rawBatch(form: .activity, headers: [("uscc", nil), ("industry_code", nil), ("rd_staff_total", nil), ("rd_exp_total", nil)],
                           rows: [
                               ["91330782MA2A7K5N24", "3841", "3", "1"],   // V001 check char
                               ["91330783147258364P", "C3841", "3", "1"],  // V003: registered in 330783
                               ["91330782MA2A7K5N23", "A3841", "3", "1"],  // V004: letter vs division
                               ["91330782MA2A7K5N23", "3841", "2.5", "-1"], // V005 twice
                           ])
        let out = Normalizer(settings: settings).normalize(raw, sequenceStart: 0)
        #expect(out.violations.map(\.rule) == ["V001", "V003", "V004", "V005", "V005"])
        #expect(out.records.status == [.rejected, .flagged, .rejected, .rejected])
        #expect(out.records.industryCode[1] == "C3841")
        #expect(out.violations.allSatisfy { $0.messageZh.hasPrefix($0.rule) && $0.level == 0 })
        #expect(out.violations[0].line == 2 && out.violations[0].sourceIndex == 3)
    }

    @Test func embeddedOrgCodeCheckIsV002() {
        // Valid outer check char but the embedded GB 11714 check char is wrong.
        let bad = USCC.complete("91330782MA2A7K5N5")!
        let raw = rawBatch(form: .activity, headers: [("uscc", nil)], rows: [[bad]])
        #expect(Normalizer(settings: settings).normalize(raw, sequenceStart: 0).violations.map(\.rule) == ["V002"])
    }

    @Test func projectCodesLabelsAndDates() {
        let raw = rawBatch(form: .projects, headers: [("uscc", nil), ("project_name", nil), ("source", nil), ("mode", nil), ("start_ym", nil), ("end_ym", nil), ("person_months", nil)],
                           rows: [["91330782MA2A7K5N23", "伺服阀研究", "本企业自选项目", "10 自主完成", "2022-03", "2024年6月", "7.5"],
                                  ["91330782MA2A7K5N23", "—", "1", "10", "202203", "202406", "1"],
                                  ["91330782MA2A7K5N23", "另一项目", "9", "10", "2022/13", "202406", "1"]])
        let out = Normalizer(settings: settings).normalize(raw, sequenceStart: 100)
        let b = out.records
        #expect(b.count == 2)
        #expect(b.column("source")?.text(0) == "1")
        #expect(b.column("mode")?.text(0) == "10")
        #expect(b.column("start_ym")?.text(0) == "202203")
        #expect(b.column("end_ym")?.text(0) == "202406")
        #expect(b.column("person_months")?.milli(0) == Milli(raw: 7_500))
        #expect(b.column("start_ym")?.text(1) == "2022/13")  // kept as sent for R116
        #expect(out.quarantine.map(\.code) == ["E-ID-PROJECT-NAME", "E-VALUE-CODE"])
        #expect(b.sequence == [100, 102])
    }

    @Test func periodAndSubmissionTime() {
        let raw = rawBatch(form: .activity, headers: [("uscc", nil), ("period", nil), ("submitted_at", nil)],
                           rows: [["91330782MA2A7K5N23", "2023年", "2024/3/5 9:07"], ["91330782MA2A7K5N23", "去年", nil]])
        let out = Normalizer(settings: settings).normalize(raw, sequenceStart: 0)
        #expect(out.records.period == [2023])
        #expect(out.records.submittedAt == ["2024-03-05T09:07:00"])
        #expect(out.quarantine.map(\.code) == ["E-ID-PERIOD"])
    }

    @Test func macroRowsTakeUnitFromTheRowAndDimensionFromTheIndicator() {
        let raw = rawBatch(form: .macro, headers: [("region_code", nil), ("period", nil), ("indicator", nil), ("value", nil), ("unit", nil)],
                           rows: [["330782", "2023", "GDP", "2345678.9", "万元"], ["330782", "2023", "EMPLOYED", "52.3", "万人"],
                                  ["330782", "2023", "GDP", "1", "人"], ["330782", "2023", "NOPE", "1", "人"]])
        let out = Normalizer(settings: settings).normalize(raw, sequenceStart: 0)
        #expect(out.records.column("value")?.milli(0) == Milli(units: 23_456_789))  // 千元
        #expect(out.records.column("value")?.milli(1) == Milli(units: 523_000))     // 人
        #expect(out.records.column("unit")?.texts.prefix(2) == ["千元", "人"])          // canonical from here on
        #expect(out.quarantine.map(\.code) == ["E-VALUE-UNIT", "E-VALUE-INDICATOR"])
    }

    @Test func rosterFlags() {
        let raw = rawBatch(form: .roster, headers: [("uscc", nil), ("above_scale", nil), ("revenue", "万元")],
                           rows: [["91330782MA2A7K5N23", "是", "3000"], ["91330783147258364P", "N", "10"], ["52330782MJ9B2C3D5X", "也许", "1"]])
        let out = Normalizer(settings: NormalizeSettings(period: 2023, countyCodes: [])).normalize(raw, sequenceStart: 0)
        #expect(out.records.column("above_scale")?.texts == ["是", "否", nil])
        #expect(out.records.column("revenue")?.milli(0) == Milli(units: 30_000))
        #expect(out.quarantine.map(\.code) == ["E-VALUE-FLAG"])
    }
}
