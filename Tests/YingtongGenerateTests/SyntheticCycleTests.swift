import Foundation
import Testing
@testable import YingtongGenerate
import YingtongModel

/// A fresh temporary directory per call, removed by the caller.
func scratch() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-gen-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// RFC 4180 records of a UTF-8 text (quoted cells, doubled quotes, line breaks inside quotes).
func csvRecords(_ text: String) -> [[String]] {
    var records: [[String]] = []
    var row: [String] = []
    var cell = ""
    var quoted = false
    var chars = Array(text.unicodeScalars)[...]
    if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }
    var i = chars.startIndex
    while i < chars.endIndex {
        let ch = chars[i]
        if quoted {
            if ch == "\"" {
                if i + 1 < chars.endIndex && chars[i + 1] == "\"" { cell.unicodeScalars.append("\""); i += 1 } else { quoted = false }
            } else {
                cell.unicodeScalars.append(ch)
            }
        } else if ch == "\"" {
            quoted = true
        } else if ch == "," {
            row.append(cell); cell = ""
        } else if ch == "\r" || ch == "\n" {
            if ch == "\r" && i + 1 < chars.endIndex && chars[i + 1] == "\n" { i += 1 }
            row.append(cell); cell = ""
            records.append(row); row = []
        } else {
            cell.unicodeScalars.append(ch)
        }
        i += 1
    }
    if !cell.isEmpty || !row.isEmpty { row.append(cell); records.append(row) }
    return records
}

func gb18030Text(_ url: URL) throws -> String {
    let bytes = [UInt8](try Data(contentsOf: url))
    let utf8 = try IconvConverter(from: "GB18030", to: "UTF-8").convert(bytes)
    return String(decoding: utf8, as: UTF8.self)
}

@Suite struct SyntheticCycleTests {
    static let files = [SyntheticCycle.activityFile, SyntheticCycle.projectFile, SyntheticCycle.rosterFile,
                        SyntheticCycle.macroFile]

    @Test func sameSeedGivesIdenticalBytes() throws {
        let a = try scratch(), b = try scratch(), c = try scratch()
        defer { for d in [a, b, c] { try? FileManager.default.removeItem(at: d) } }
        let sa = try SyntheticCycle(enterprises: 400, seed: 11, period: 2023, format: .csv).write(to: a)
        let sb = try SyntheticCycle(enterprises: 400, seed: 11, period: 2023, format: .csv).write(to: b)
        try SyntheticCycle(enterprises: 400, seed: 12, period: 2023, format: .csv).write(to: c)
        #expect(sa.fileBytes == sb.fileBytes)
        for f in Self.files {
            let x = try Data(contentsOf: a.appendingPathComponent("2023/\(f)"))
            let y = try Data(contentsOf: b.appendingPathComponent("2023/\(f)"))
            #expect(x == y, "\(f) differs between two runs with the same seed")
            #expect(x.count == sa.fileBytes[f])
        }
        #expect(try Data(contentsOf: a.appendingPathComponent("pipeline.yaml"))
            == Data(contentsOf: b.appendingPathComponent("pipeline.yaml")))
        let other = try Data(contentsOf: c.appendingPathComponent("2023/\(SyntheticCycle.activityFile)"))
        #expect(other != (try Data(contentsOf: a.appendingPathComponent("2023/\(SyntheticCycle.activityFile)"))))
    }

    @Test func identitiesAreStableAcrossPeriods() throws {
        let d = try scratch()
        defer { try? FileManager.default.removeItem(at: d) }
        try SyntheticCycle(enterprises: 200, seed: 3, period: 2022).write(to: d)
        try SyntheticCycle(enterprises: 200, seed: 3, period: 2023).write(to: d)
        func roster(_ p: Int) throws -> [String] {
            let text = try String(contentsOf: d.appendingPathComponent("\(p)/\(SyntheticCycle.rosterFile)"), encoding: .utf8)
            return csvRecords(text).dropFirst().map { $0[0] + $0[1] + $0[3] }
        }
        #expect(try roster(2022) == roster(2023))
        let v22 = try gb18030Text(d.appendingPathComponent("2022/\(SyntheticCycle.activityFile)"))
        let v23 = try gb18030Text(d.appendingPathComponent("2023/\(SyntheticCycle.activityFile)"))
        #expect(v22 != v23, "values must differ between periods")
    }

    @Test func usccsAreValidExceptThePlantedFaults() throws {
        let d = try scratch()
        defer { try? FileManager.default.removeItem(at: d) }
        let s = try SyntheticCycle(enterprises: 5000, seed: 5, period: 2023).write(to: d)
        #expect(s.badCheckDigits > 0 && s.excelCodes > 0, "5000 enterprises should carry some of each fault")
        let rows = csvRecords(try gb18030Text(d.appendingPathComponent("2023/\(SyntheticCycle.activityFile)")))
            .filter { $0.count > 10 && $0[0] != "统一社会信用代码" }
        var checkFaults = 0, excel = 0, other = 0
        for r in rows {
            if r[0].contains("E+") { excel += 1; continue }
            switch USCC.problem(r[0]) {
            case nil: break
            case .checkChar: checkFaults += 1
            default: other += 1
            }
        }
        #expect(checkFaults == s.badCheckDigits)
        #expect(excel == s.excelCodes)
        #expect(other == 0)
        let roster = csvRecords(try String(contentsOf: d.appendingPathComponent("2023/\(SyntheticCycle.rosterFile)"),
                                           encoding: .utf8)).dropFirst()
        #expect(roster.allSatisfy { USCC.problem($0[0]) == nil && OrgCode.isValid(USCC.embeddedOrgCode($0[0])!) })
        #expect(Set(roster.map { $0[0] }).count == roster.count, "codes are unique")
    }

    @Test func rowCountsMatchTheSummary() throws {
        let d = try scratch()
        defer { try? FileManager.default.removeItem(at: d) }
        let n = 1200
        let s = try SyntheticCycle(enterprises: n, seed: 9, period: 2023).write(to: d)
        let activity = csvRecords(try gb18030Text(d.appendingPathComponent("2023/\(SyntheticCycle.activityFile)")))
        // title, header, n rows, 填报说明 footer
        #expect(activity.count == n + 3)
        #expect(activity.first?.first?.hasPrefix("企业研究开发活动及相关情况") == true)
        #expect(activity.last?.first?.hasPrefix("填报说明") == true)
        #expect(s.activityRows == n)
        let projects = csvRecords(try gb18030Text(d.appendingPathComponent("2023/\(SyntheticCycle.projectFile)")))
        #expect(projects.count - 1 == s.projectRows)
        #expect(projects.dropFirst().allSatisfy { $0.count == 14 }, "quoted names keep the column count")
        let perEnterprise = Double(s.projectRows) / Double(n)
        #expect(perEnterprise > 1.6 && perEnterprise < 2.4, "about two projects per enterprise, got \(perEnterprise)")
        let roster = csvRecords(try String(contentsOf: d.appendingPathComponent("2023/\(SyntheticCycle.rosterFile)"),
                                           encoding: .utf8))
        #expect(roster.count - 1 == s.rosterRows)
        #expect(s.rosterRows > n, "the roster also lists units that never report")
        let macro = csvRecords(try String(contentsOf: d.appendingPathComponent("2023/\(SyntheticCycle.macroFile)"),
                                          encoding: .utf8))
        #expect(macro.map { $0[2] } == ["indicator", "GDP", "EMPLOYED", "IND_OUTPUT_ABOVE_SCALE", "HIGHTECH_OUTPUT"])
        let yaml = try String(contentsOf: s.pipelineFile, encoding: .utf8)
        #expect(yaml.contains("path: \"{period}/107-2_*.csv\"") && yaml.contains("period: 2023"))
    }

    @Test func gb18030RoundTripOfAName() throws {
        let name = "示例县华锐精密机械有限公司𠀀"
        let enc = try IconvConverter(from: "UTF-8", to: "GB18030").convert(Array(name.utf8))
        #expect(Array(enc.prefix(4)) == [0xCA, 0xBE, 0xC0, 0xFD])          // 示例
        #expect(Array(enc.suffix(4)) == [0x95, 0x32, 0x82, 0x36])          // 𠀀, a four-byte GB18030 character
        let dec = try IconvConverter(from: "GB18030", to: "UTF-8").convert(enc)
        #expect(String(decoding: dec, as: UTF8.self) == name)
        #expect(throws: GenerateError.self) { try IconvConverter(from: "GB18030", to: "UTF-8").convert([0x41, 0xFF, 0x42]) }
    }

    @Test func everyHeaderNamesExactlyOneDictionaryField() {
        let dict = FieldDictionary.standard
        for c in Layout.columns107_2 {
            let found = dict.candidates(forLabel: Layout.headerLabel(c), form: .activity)
            #expect(found.map(\.code) == [c.code], "\(Layout.headerLabel(c))")
        }
        for (label, code) in zip(Layout.header107_1, ["uscc", "period", "project_name", "source", "mode", "result_form",
                                                      "target", "start_ym", "end_ym", "stage", "staff",
                                                      "person_months", "exp", "exp_gov"]) {
            #expect(dict.candidates(forLabel: label, form: .projects).map(\.code) == [code], "\(label)")
        }
        for (label, code) in zip(Layout.headerRoster, ["uscc", "name", "region_code", "industry_code", "above_scale",
                                                       "revenue", "gross_output", "employees", "period"]) {
            #expect(dict.candidates(forLabel: label, form: .roster).map(\.code) == [code], "\(label)")
        }
    }

    /// Row 7 equals the sum of its eight components and sources sum to row 7 in every record without a
    /// planted fault, read back through the model's own number parser (placeholders = missing = 0 here).
    @Test func recordsAreInternallyConsistent() throws {
        let d = try scratch()
        defer { try? FileManager.default.removeItem(at: d) }
        try SyntheticCycle(enterprises: 1500, seed: 21, period: 2023).write(to: d)
        let rows = csvRecords(try gb18030Text(d.appendingPathComponent("2023/\(SyntheticCycle.activityFile)")))
        let header = rows[1]
        let units = header.map { HeaderText.splitUnit($0)?.1 ?? "千元" }
        let col = Dictionary(uniqueKeysWithValues: Layout.columns107_2.enumerated().map { ($1.code, $0 + 6) })
        var checked = 0
        for r in rows[2..<(rows.count - 1)] {
            func money(_ code: String) -> Int64? {
                let i = col[code]!
                switch NumberText.classify(r[i]) {
                case .value(let m): return units[i] == "万元" ? m.raw * 10 : m.raw
                case .missing: return 0
                case .invalid: return nil
                }
            }
            let parts = ["rd_exp_labor", "rd_exp_direct", "rd_exp_depreciation", "rd_exp_intangible_amort",
                         "rd_exp_design", "rd_exp_equip_test", "rd_exp_outsourced", "rd_exp_other"].compactMap(money)
            let sources = ["rd_fund_self", "rd_fund_government", "rd_fund_bank_loan", "rd_fund_venture",
                           "rd_fund_other"].compactMap(money)
            let outsourced = ["rd_exp_out_research_inst", "rd_exp_out_university", "rd_exp_out_enterprise",
                              "rd_exp_out_overseas"].compactMap(money)
            guard let total = money("rd_exp_total"), parts.count == 8, sources.count == 5 else {
                Issue.record("unreadable money cell in \(r[0])"); continue
            }
            #expect(parts.reduce(0, +) == total, "row 7 ≠ Σ components for \(r[0])")
            #expect(sources.reduce(0, +) == total, "sources ≠ row 7 for \(r[0])")
            #expect(outsourced.reduce(0, +) == money("rd_exp_outsourced"), "row 14 ≠ Σ rows 15–18 for \(r[0])")
            if case .value(let staff) = NumberText.classify(r[col["rd_staff_total"]!]),
               case .value(let sub) = NumberText.classify(r[col["rd_staff_bachelor_plus"]!]) {
                #expect(sub <= staff)
            }
            checked += 1
        }
        #expect(checked == 1500)
    }
}
