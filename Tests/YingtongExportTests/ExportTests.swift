import Foundation
import GRDB
import Testing
import YingtongModel
import YingtongStore
import ZIPFoundation
@testable import YingtongExport

/// A committed run with one 107-2 record, indicators (one negative change, one missing value) and quarantine
/// entries whose raw text looks like formulas and carries a control byte.
private func makeStore(period: Int = 2023) throws -> (Store, URL) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-export-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let store = try Store(path: dir.appendingPathComponent("store.sqlite").path)
    let w = try store.beginRun(RunInfo(pipeline: "t", regionCode: "330727", period: period, yingtongVersion: "test"))
    var b = RecordBatch(form: .activity, formVersion: "2021", fields: FieldDictionary.standard.fields(of: .activity))
    b.uscc.append("91330727MA2YDM6Y9J"); b.name.append("=示例,公司\"甲\""); b.regionCode.append("330727")
    b.industryCode.append("C3481"); b.period.append(period); b.submittedAt.append(nil); b.sequence.append(0)
    b.provenance.append(Provenance(sourceIndex: 0, line: 3, lineEnd: 3, byteOffset: 0))
    for k in b.columns.indices {
        switch b.columns[k].field.code {
        case "rd_exp_total": b.columns[k].append(NumberText.parse("2009.1")!)
        case "rd_staff_total": b.columns[k].append(NumberText.parse("4")!)
        default: b.columns[k].appendMissing()
        }
    }
    try w.insert(b)
    try w.insert(quarantine: [
        QuarantineEntry(sourceIndex: 0, file: "107-2.csv", line: 7, lineEnd: 7, raw: "=HYPERLINK(\"http://x\")\u{0B}",
                        code: "E-CSV-QUOTE", messageZh: "引号未闭合"),
        QuarantineEntry(sourceIndex: 0, file: "107-2.csv", line: 8, lineEnd: 8, raw: "-2+3", code: "E-NUM", messageZh: "不是数值"),
        QuarantineEntry(sourceIndex: 0, file: "107-2.csv", line: 9, lineEnd: 9, raw: "@SUM(A1)", code: "E-NUM", messageZh: "不是数值"),
    ])
    try w.insert(indicators: [
        IndicatorRow(regionCode: "330727", period: period, code: "rd_exp", nameZh: "R&D经费（内部支出口径）",
                     value: Decimal(string: "8.542284"), unit: "亿元", prevValue: Decimal(string: "10.042284"),
                     change: Decimal(string: "-1.5"), changeUnit: "亿元", growthRate: Decimal(string: "-14.936"), rank: 2),
        IndicatorRow(regionCode: "330727", period: period, code: "rd_intensity", nameZh: "R&D经费投入强度（占GDP比重）",
                     value: nil, unit: "%", note: "缺少宏观数据 GDP"),
        IndicatorRow(regionCode: "330727", period: period, code: "rd_fte", nameZh: "研发人员全时当量",
                     value: Decimal(string: "648.625"), unit: "人年"),
    ])
    try w.commit()
    return (store, dir)
}

@Suite struct ExportTests {
    @Test func plainCSVIsForProgramsMoneyInThousandYuanExact() throws {
        let (store, dir) = try makeStore()
        let out = dir.appendingPathComponent("record.csv").path
        let s = try Exporter.export(store: store, period: 2023, tables: ["record"], format: .csv, to: out)
        #expect(s.rows["record"] == 1)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(!text.hasPrefix("\u{FEFF}"))
        #expect(!text.contains("\r\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(header.contains("rd_exp_total"))
        // Plain CSV is data, not a spreadsheet: the name keeps its leading "=" and is quoted per RFC 4180.
        #expect(lines[1].contains("\"=示例,公司\"\"甲\"\"\""))
        let row = CSVTests.split(String(lines[1]))
        #expect(row[header.firstIndex(of: "rd_exp_total")!] == "2009.1")
        #expect(row[header.firstIndex(of: "rd_staff_total")!] == "4")
        #expect(row[header.firstIndex(of: "rd_exp_labor")!] == "")
    }

    @Test func excelCSVHasBOMCRLFChineseHeadersAndNeutralizedFormulasButNumbersStayNumbers() throws {
        let (store, dir) = try makeStore()
        let out = dir.appendingPathComponent("q.csv").path
        _ = try Exporter.export(store: store, period: 2023, tables: ["quarantine"], format: .csv, excel: true, to: out)
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let text = String(decoding: data.dropFirst(3), as: UTF8.self)
        #expect(text.hasSuffix("\r\n"))
        #expect(text.hasPrefix("行号,运行编号"))
        #expect(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\u{0B}\""))
        #expect(text.contains(",'-2+3,"))
        #expect(text.contains(",'@SUM(A1),"))
        #expect(!text.contains(",=") && !text.contains(",-2") && !text.contains(",@"))

        let ind = dir.appendingPathComponent("i.csv").path
        _ = try Exporter.export(store: store, period: 2023, tables: ["indicator"], format: .csv, excel: true, to: ind)
        let itext = try String(contentsOfFile: ind, encoding: .utf8)
        // A negative change is a number: written as -1.5, never escaped.
        #expect(itext.contains(",-1.5,"))
        #expect(itext.contains(",-14.936,"))
        #expect(itext.contains("指标值"))
    }

    @Test func jsonLinesAreTypedObjects() throws {
        let (store, dir) = try makeStore()
        let out = dir.appendingPathComponent("i.jsonl").path
        _ = try Exporter.export(store: store, period: 2023, tables: ["indicator"], format: .jsonl, to: out)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect((objects[0]["value"] as? NSNumber)?.doubleValue == 8.542284)
        #expect((objects[0]["change"] as? NSNumber)?.doubleValue == -1.5)
        #expect((objects[0]["rank"] as? NSNumber)?.intValue == 2)
        #expect(objects[1]["value"] is NSNull)
        #expect(objects[1]["note"] as? String == "缺少宏观数据 GDP")
    }

    @Test func xlsxHasTypedCellsFrozenHeaderAndNoFormulas() throws {
        let (store, dir) = try makeStore()
        let out = dir.appendingPathComponent("book.xlsx")
        let s = try Exporter.export(store: store, period: 2023, tables: ["record", "quarantine", "indicator"],
                                    format: .xlsx, to: out.path)
        #expect(s.rows == ["record": 1, "quarantine": 3, "indicator": 3])
        let archive = try Archive(url: out, accessMode: .read)
        func part(_ name: String) throws -> String {
            var data = Data()
            _ = try archive.extract(archive[name]!) { data.append($0) }
            return String(decoding: data, as: UTF8.self)
        }
        let workbook = try part("xl/workbook.xml")
        #expect(workbook.contains("name=\"record\"") && workbook.contains("name=\"quarantine\"") && workbook.contains("name=\"indicator\""))
        let record = try part("xl/worksheets/sheet1.xml")
        #expect(record.contains("state=\"frozen\"") && record.contains("ySplit=\"1\""))
        #expect(record.contains("研究开发费用合计（千元）"))
        #expect(record.contains("s=\"2\"><v>2009.1</v>"))   // money: numeric cell with the 千元 format
        let quarantine = try part("xl/worksheets/sheet2.xml")
        #expect(!quarantine.contains("<f>") && !quarantine.contains("<f "))
        #expect(quarantine.contains("<t xml:space=\"preserve\">=HYPERLINK(&quot;http://x&quot;)_x000B_</t>"))
        let indicator = try part("xl/worksheets/sheet3.xml")
        #expect(indicator.contains("<v>-1.5</v>"))
        #expect(try part("xl/styles.xml").contains("formatCode=\"#,##0.000\""))
    }

    @Test func longTablesContinueOnAnotherSheet() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-export-split-\(UUID().uuidString).xlsx")
        defer { try? FileManager.default.removeItem(at: dir) }
        let book = try XLSXWriter(path: dir.path, maxRowsPerSheet: 2)
        try book.beginSheet(name: "project", columns: [ExportColumn(name: "n", headerZh: "序号", kind: .integer, unit: nil)])
        for i in 0..<5 { try book.row([.integer(Int64(i))]) }
        try book.finish()
        let archive = try Archive(url: dir, accessMode: .read)
        var data = Data()
        _ = try archive.extract(archive["xl/workbook.xml"]!) { data.append($0) }
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("name=\"project\"") && text.contains("name=\"project (2)\"") && text.contains("name=\"project (3)\""))
        #expect(archive["xl/worksheets/sheet3.xml"] != nil && archive["xl/worksheets/sheet4.xml"] == nil)
    }

    @Test func sdmxHasOneObservationPerKnownIndicatorValue() throws {
        let (store, dir) = try makeStore()
        let out = dir.appendingPathComponent("i.xml")
        let s = try Exporter.export(store: store, period: 2023, tables: ["indicator"], format: .sdmx, to: out.path)
        #expect(s.rows["indicator"] == 2)
        let text = try String(contentsOf: out, encoding: .utf8)
        #expect(text.contains("<message:StructureSpecificData"))
        #expect(text.contains("REF_AREA=\"330727\" INDICATOR=\"RD_EXP\" TIME_PERIOD=\"2023\" OBS_VALUE=\"8.542284\" UNIT_MEASURE=\"CNY\" UNIT_MULT=\"8\""))
        #expect(!text.contains("RD_INTENSITY"))
        #expect(text.components(separatedBy: "<Obs ").count - 1 == 2)
    }

    @Test func aTableAddedToTheStoreIsExportedWithoutCode() throws {
        let (store, dir) = try makeStore()
        let path = store.path
        try store.close()
        let q = try DatabaseQueue(path: path)
        try q.write { db in
            // A table a later version might add (e.g. a 科技成果转化贷款 summary): no export code knows it.
            try db.execute(sql: "CREATE TABLE loan_summary (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, uscc TEXT, estimated_amount INTEGER)")
            try db.execute(sql: "INSERT INTO loan_summary (run_id, uscc, estimated_amount) SELECT id, '91330727MA2YDM6Y9J', 1500 FROM run")
        }
        try q.close()
        let reopened = try Store(path: path, readOnly: true)
        let out = dir.appendingPathComponent("o.csv").path
        let s = try Exporter.export(store: reopened, period: 2023, tables: ["loan_summary"], format: .csv, excel: true, to: out)
        #expect(s.rows["loan_summary"] == 1)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.contains("统一社会信用代码"))
        #expect(text.contains(",1500\r\n"))
        #expect(throws: YingtongError.self) {
            try Exporter.export(store: reopened, period: 2023, tables: ["nope"], format: .csv, to: out)
        }
    }

    @Test func periodSelectsRuns() throws {
        let (store, dir) = try makeStore(period: 2022)
        let out = dir.appendingPathComponent("i.csv").path
        #expect(try Exporter.export(store: store, period: 2023, tables: ["indicator"], format: .csv, to: out).rows["indicator"] == 0)
        #expect(try Exporter.export(store: store, period: 2022, tables: ["indicator"], format: .csv, to: out).rows["indicator"] == 3)
        #expect(try Exporter.export(store: store, period: 2022, tables: ["run"], format: .csv, to: out).rows["run"] == 1)
    }
}

enum CSVTests {
    /// RFC 4180 split of one line (enough for the tests' single-line rows).
    static func split(_ line: String) -> [String] {
        var out: [String] = [], cur = "", quoted = false
        let it = Array(line)
        var i = 0
        while i < it.count {
            let c = it[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < it.count && it[i + 1] == "\"" { cur.append("\""); i += 1 } else { quoted = false }
                } else { cur.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { out.append(cur); cur = "" }
            else { cur.append(c) }
            i += 1
        }
        out.append(cur)
        return out
    }
}
