import Foundation
import Testing
import YingtongModel
import YingtongStore
import YingtongIndicators
import GRDB
@testable import YingtongPipeline

/// The repository root, found from this file's path (tests run from any directory).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The demo county's pipeline, pointed at a fresh temporary store and output folder.
func demoPipeline(period: Int, in dir: URL) throws -> PipelineDefinition {
    var d = try PipelineDefinition.load(path: repositoryRoot.appendingPathComponent("pipelines/demo-county.yaml").path,
                                        periodOverride: period)
    d.storePath = dir.appendingPathComponent("yingtong.sqlite").path
    d.previousPath = d.storePath
    d.outputsDir = dir.appendingPathComponent("\(period)").path
    return d
}

func temporaryDirectory() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-e2e-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Parses an indicators CSV into code → column → text.
func indicatorTable(_ text: String) -> [String: [String: String]] {
    let lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    guard let header = lines.first else { return [:] }
    var out: [String: [String: String]] = [:]
    for row in lines.dropFirst() {
        var m: [String: String] = [:]
        for (i, h) in header.enumerated() where i < row.count { m[h] = row[i] }
        out[m["code"] ?? ""] = m
    }
    return out
}

@Suite(.serialized) struct DemoCountyTests {
    /// The golden figures were computed independently of yingtong (fixtures/demo-county/expected/
    /// compute_golden.py, stdlib Python over the generator's model with exact fractions) and checked by hand in
    /// GOLDEN.md. The arithmetic for 2023, as a spreadsheet would do it:
    ///   rd_exp_cost_total = Σ row 7 of the 28 accepted records (V001 and V005 records rejected, the 9.13307E+17
    ///     record and the invalid-byte record quarantined; 金华德力's correction 1364.9 replaces 1132.6)
    ///     = 833,981.0 千元 ÷ 100,000 = 8.339810 亿元
    ///   rd_exp = Σ (r7 − r14 − r10 − r11 + r20) = 854,228.4 千元 = 8.542284 亿元
    ///   rd_intensity = 854,228.4 ÷ (1,796,542 万元 × 10) × 100 = 4.754848 %
    ///   rd_fte = Σ 人月 of projects of accepted enterprises ÷ 12 = 7,783.5 ÷ 12 = 648.625 人年
    ///   rd_fte_per_10k = 648.625 ÷ 120,315 × 10,000 = 53.910568
    ///   ind_above_scale = 45 (roster 是否规上=是 and section B/C/D); ind_rd_active = 30; share = 66.666667 %
    @Test func goldenIndicatorsForBothCycles() throws {
        let dir = temporaryDirectory()
        for period in [2022, 2023] {
            let result = try PipelineRunner(definition: demoPipeline(period: period, in: dir)).run()
            let produced = indicatorTable(try String(contentsOfFile: result.indicatorsCSV, encoding: .utf8))
            let golden = indicatorTable(try String(contentsOf: repositoryRoot.appendingPathComponent(
                "fixtures/demo-county/expected/indicators-\(period).csv"), encoding: .utf8))
            #expect(golden.count == 8)
            for (code, expected) in golden {
                let row = try #require(produced[code], "指标 \(code) 缺失：\(produced.keys.sorted())")
                for column in ["value", "prev_value", "change"] {
                    let want = expected[column].flatMap { Decimal(string: $0) }
                    let got = row[column].flatMap { $0.isEmpty ? nil : Decimal(string: $0) }
                    #expect(got == want, "\(period) \(code).\(column): \(String(describing: got)) ≠ \(String(describing: want))")
                }
                if let g = row["growth_rate"], !g.isEmpty {
                    #expect(Decimal(string: g) == expected["growth_rate"].flatMap { Decimal(string: $0) }, "\(code).growth_rate")
                }
                #expect(row["unit"] == expected["unit"])
            }
        }
    }

    @Test func plantedFaultsAreLocatedAndNothingIsLost() throws {
        let dir = temporaryDirectory()
        _ = try PipelineRunner(definition: demoPipeline(period: 2022, in: dir)).run()
        let result = try PipelineRunner(definition: demoPipeline(period: 2023, in: dir)).run()
        let store = try Store(path: result.storePath, readOnly: true)
        defer { try? store.close() }
        try store.read { db in
            let quarantine = try Row.fetchAll(db, sql: "SELECT file, line, code, column, byte_offset, field, message FROM quarantine WHERE run_id = ? ORDER BY file, line",
                                               arguments: [result.runID])
            let found = quarantine.map { "\(($0["file"] as String).components(separatedBy: "/").last!):\($0["line"] as Int):\($0["code"] as String)" }
            #expect(found.sorted() == [
                "107-1_研发项目.csv:\(faultLine("E-CSV-QUOTE")):E-CSV-QUOTE",
                "107-2_研发活动.csv:11:E-VALUE-NUMBER",
                "107-2_研发活动.csv:20:E-ID-USCC-EXCEL",
                "107-2_研发活动.csv:32:E-ENCODING",
                "说明.csv:3:E-EXPLANATION-INCOMPLETE",
                "加计扣除.csv:8:E-ID-USCC-MISSING",   // a registry row without a code (名单, 应统尽统)
            ].sorted())
            // A 核实性 query with a written explanation (说明.csv) leaves the record `explained`, not flagged.
            let explained = try String.fetchAll(db, sql: "SELECT name FROM record WHERE run_id = ? AND status = 'explained'", arguments: [result.runID])
            #expect(explained == ["浙江博远智能装备有限公司"])
            let encoding = try #require(quarantine.first { ($0["code"] as String) == "E-ENCODING" })
            #expect((encoding["byte_offset"] as Int64?) == 8494)
            #expect((encoding["column"] as Int?) == 22)
            #expect((encoding["message"] as String).contains("字节偏移 8494"))
            let value = try #require(quarantine.first { ($0["code"] as String) == "E-VALUE-NUMBER" })
            #expect((value["field"] as String?) == "tech_renovation_exp")

            let rules = try String.fetchAll(db, sql: "SELECT rule FROM violation WHERE run_id = ? AND severity = 'error' AND superseded = 0 ORDER BY rule",
                                            arguments: [result.runID])
            #expect(Set(rules) == ["V001", "V005"])
            // The catalogue runs in the pipeline: the 元-as-千元 enterprise is caught against last year (R208),
            // and every rule's counts and the pack's hash are kept with the run.
            let r208 = try String.fetchAll(db, sql: """
                SELECT r.name FROM violation v JOIN record r ON r.run_id = v.run_id AND r.uscc = v.uscc
                WHERE v.run_id = ? AND v.rule = 'R208' AND v.superseded = 0
                """, arguments: [result.runID])
            #expect(r208 == ["浙江和美工艺品有限公司"])
            let packs = try String.fetchOne(db, sql: "SELECT rule_packs FROM run WHERE id = ?", arguments: [result.runID]) ?? ""
            #expect(packs.contains("rd-catalogue.yaml") && packs.contains("sha256"))
            #expect(result.counts["rule.R102.evaluated", default: 0] > 0)
            let rejected = try String.fetchAll(db, sql: "SELECT name FROM record WHERE run_id = ? AND status = 'rejected' ORDER BY name", arguments: [result.runID])
            #expect(rejected == ["浙江盛达不锈钢制品有限公司", "浙江美途户外用品有限公司"])
            let history = try String.fetchAll(db, sql: "SELECT name FROM record_history WHERE run_id = ?", arguments: [result.runID])
            #expect(history == ["金华德力汽车部件有限公司"])
            let corrected = try Int64.fetchOne(db, sql: "SELECT rd_exp_total FROM record WHERE run_id = ? AND name = '金华德力汽车部件有限公司'", arguments: [result.runID])
            #expect(corrected == 1_364_900)  // 1364.9 千元, stored exactly as 元

            // Every physical line of every input is in a record, in quarantine or layout.
            let inputs = try String.fetchOne(db, sql: "SELECT inputs FROM run WHERE id = ?", arguments: [result.runID]) ?? "[]"
            let decoded = try JSONDecoder().decode([RunInput].self, from: Data(inputs.utf8))
            #expect(decoded.count == 18)  // 6 forms and bureau files + 12 registries
            for input in decoded {
                let l = input.lines
                #expect(l.physicalLines == l.recordLines + l.quarantinedLines + l.layoutLines, "\(input.path)")
                #expect(input.sha256.count == 64)
            }
            let q107_2 = try #require(decoded.first { $0.path.hasSuffix("107-2_研发活动.csv") })
            #expect(q107_2.lines.quarantinedLines == 2 && q107_2.encoding == "gb18030")
        }
        #expect(result.errorFindings > 0)
    }

    @Test func rerunReplacesAndPeriodsSitSideBySide() throws {
        let dir = temporaryDirectory()
        let first = try PipelineRunner(definition: demoPipeline(period: 2023, in: dir)).run()
        _ = try PipelineRunner(definition: demoPipeline(period: 2022, in: dir)).run()
        let again = try PipelineRunner(definition: demoPipeline(period: 2023, in: dir)).run()
        let store = try Store(path: again.storePath, readOnly: true)
        defer { try? store.close() }
        let runs = try store.runs()
        #expect(runs.map(\.period).sorted() == [2022, 2023])
        #expect(try store.recordCount(run: again.runID) == first.counts["records_loaded"])
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") } == 41 + 43)
    }

    @Test func aFailedRunLeavesThePreviousOneUntouched() throws {
        let dir = temporaryDirectory()
        let good = try PipelineRunner(definition: demoPipeline(period: 2023, in: dir)).run()
        let before = try String(contentsOfFile: good.indicatorsCSV, encoding: .utf8)
        // A source that is a folder: reading fails after the other inputs were already loaded.
        var broken = try demoPipeline(period: 2023, in: dir)
        let folder = dir.appendingPathComponent("not-a-file.csv")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        broken.sources.append(.init(role: "enterprise_rd", form: .activity, path: folder.path, encoding: "auto", unit: nil,
                                    separator: UInt8(ascii: ","), format: nil, optional: false))
        #expect(throws: YingtongError.self) { try PipelineRunner(definition: broken).run() }
        let store = try Store(path: good.storePath, readOnly: true)
        defer { try? store.close() }
        let runs = try store.runs()
        #expect(runs.count == 1 && runs[0].id == good.runID && runs[0].status == "ok")
        #expect(try store.recordCount(run: good.runID) == 41)
        #expect(try String(contentsOfFile: good.indicatorsCSV, encoding: .utf8) == before)
    }
}

/// The physical line of a planted fault, read from FAULTS.md (written by the fixture generator).
func faultLine(_ code: String) -> Int {
    let text = (try? String(contentsOf: repositoryRoot.appendingPathComponent("fixtures/demo-county/FAULTS.md"), encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") where line.contains(code) {
        let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        if cells.count > 2, let n = Int(cells[2]) { return n }
    }
    return -1
}

@Suite struct MacroFromSDMXTests {
    /// The bureau's SDMX-ML message (fixtures/sdmx/macro-generic.xml: GDP 1,796,542 万元 with UNIT_MULT 4,
    /// EMPLOYED 120,315 persons) replaces the macro CSV and gives the same intensity and per-10k figures.
    @Test func sdmxMacroDataFeedsTheIndicators() throws {
        let dir = temporaryDirectory()
        var d = try demoPipeline(period: 2023, in: dir)
        d.previousPath = nil
        d.sources = d.sources.filter { $0.role != "macro" }
        d.sources.append(.init(role: "macro", form: .macro, path: repositoryRoot.appendingPathComponent("fixtures/sdmx/macro-generic.xml").path,
                               encoding: "auto", unit: nil, separator: UInt8(ascii: ","), format: nil, optional: false))
        let result = try PipelineRunner(definition: d).run()
        let produced = indicatorTable(try String(contentsOfFile: result.indicatorsCSV, encoding: .utf8))
        #expect(produced["rd_intensity"]?["value"].flatMap { Decimal(string: $0) } == Decimal(string: "4.754848"))
        #expect(produced["rd_fte_per_10k"]?["value"].flatMap { Decimal(string: $0) } == Decimal(string: "53.910568"))
    }
}

@Suite struct BlockPagingTests {
    /// Validation reads enterprises back from the store in blocks; tiny blocks must find exactly what one big block
    /// finds (no enterprise skipped or seen twice at block edges).
    @Test func tinyBlocksGiveTheSameFindings() throws {
        func findings(batchSize: Int) throws -> [String] {
            let dir = temporaryDirectory()
            var d = try demoPipeline(period: 2023, in: dir)
            d.batchSize = batchSize
            let result = try PipelineRunner(definition: d).run()
            let store = try Store(path: result.storePath, readOnly: true)
            defer { try? store.close() }
            return try store.read { db in
                try String.fetchAll(db, sql: "SELECT rule || ':' || uscc || ':' || line FROM violation WHERE run_id = ? ORDER BY 1",
                                    arguments: [result.runID])
            }
        }
        let big = try findings(batchSize: 4096)
        #expect(big.count > 20)
        #expect(try findings(batchSize: 3) == big)
    }
}

/// A run's log lines, gathered from whichever thread logs them.
final class LogLines: @unchecked Sendable {
    // @unchecked: every access holds the lock.
    private let lock = NSLock()
    private var gathered: [String] = []
    func append(_ line: String) { lock.withLock { gathered.append(line) } }
    var lines: [String] { lock.withLock { gathered } }
}
