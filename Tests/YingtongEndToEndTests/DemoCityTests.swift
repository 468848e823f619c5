import Foundation
import Testing
import YingtongIndicators
import YingtongModel
import YingtongStore
import YingtongExport
import GRDB
@testable import YingtongPipeline

/// The demo city's pipeline (three counties), pointed at a fresh store and output folder.
func demoCityPipeline(in dir: URL) throws -> PipelineDefinition {
    var d = try PipelineDefinition.load(path: repositoryRoot.appendingPathComponent("pipelines/demo-city.yaml").path)
    d.storePath = dir.appendingPathComponent("yingtong.sqlite").path
    d.previousPath = d.storePath
    d.outputsDir = dir.appendingPathComponent("2023").path
    return d
}

@Suite(.serialized) struct DemoCityTests {
    /// Golden figures from fixtures/demo-city/expected/compute_golden.py (stdlib Python over the generator's model,
    /// exact fractions; never yingtong's code). By hand, for the city 330700: rd_exp = Σ over the three counties
    /// of (r7 − r14 − r10 − r11 + r20), and rd_intensity = that sum ÷ Σ GDP — sums before ratios, not a mean of
    /// the counties' intensities. 研发三项综合排名 uses the weights of pipelines/demo-city.yaml (2, 1, 1):
    /// 330702 ranks (1, 3, 1) → (2·1 + 3 + 1) ÷ 4 = 1.5, first; 330727 (2, 2, 2) → 2; 330723 (3, 1, 2) → 2.25.
    @Test func everyCountyAndTheCityMatchTheGoldenFiguresWithRanks() throws {
        let dir = temporaryDirectory()
        let result = try PipelineRunner(definition: demoCityPipeline(in: dir)).run()
        let golden = try String(contentsOf: repositoryRoot.appendingPathComponent("fixtures/demo-city/expected/indicators-2023.csv"),
                                encoding: .utf8)
        var expected: [String: (String, String)] = [:]
        for line in golden.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            expected["\(f[0])/\(f[1])"] = (f[2], f[3])
        }
        #expect(expected.count == 3 * 10 + 10 + 3)
        var produced: [String: IndicatorRow] = [:]
        for r in result.indicators { produced["\(r.regionCode)/\(r.code)"] = r }
        // The golden file covers the indicators the city's inputs decide; the registry and 应统尽统 indicators have
        // no source in this city (no registries, no rule pack) and are checked to say so below.
        #expect(Set(expected.keys).isSubset(of: Set(produced.keys)))
        for (key, row) in produced where expected[key] == nil && key.hasPrefix("330700/") {
            #expect(row.value == nil || key.hasSuffix("rd_institution_coverage"), "\(key) has no source here")
        }
        for (key, (value, rank)) in expected.sorted(by: { $0.key < $1.key }) {
            let row = try #require(produced[key], "missing \(key)")
            #expect(row.value == Decimal(string: value), "\(key): \(row.value.map { "\($0)" } ?? "nil") ≠ \(value)")
            #expect(row.rank == Int(rank), "\(key) rank")
        }
        // The rows the store holds are the ones returned, and the exports the pipeline asks for are in place.
        let store = try Store(path: result.storePath, readOnly: true)
        defer { try? store.close() }
        #expect(try store.indicators(run: result.runID).count == result.indicators.count)
        for file in ["indicator.xlsx", "indicator.csv", "indicator.xml", "record.jsonl", "indicators.csv"] {
            #expect(FileManager.default.fileExists(atPath: result.outputsDir + "/" + file), "\(file)")
        }
        let jsonl = try String(contentsOfFile: result.outputsDir + "/record.jsonl", encoding: .utf8)
        #expect(jsonl.split(separator: "\n").count == 16)   // every 107-2 row of the three counties
        // The formula typed where 人员人工费用 belongs is quarantined as a value, located, and the record kept.
        let quarantined = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT file, line, field, raw, code FROM quarantine WHERE run_id = ?", arguments: [result.runID])
        }
        #expect(quarantined.count == 1)
        #expect(quarantined.first.map { ($0["field"] as String?, $0["raw"] as String, $0["code"] as String, $0["line"] as Int) }
                .map { $0 == ("rd_exp_labor", "=SUM(I3:I9)", "E-VALUE-NUMBER", 3) } == true)
    }

    @Test func aRerunReplacesTheCityRunAndItsCountyRows() throws {
        let dir = temporaryDirectory()
        let d = try demoCityPipeline(in: dir)
        let first = try PipelineRunner(definition: d).run()
        let second = try PipelineRunner(definition: d).run()
        let store = try Store(path: d.storePath, readOnly: true)
        defer { try? store.close() }
        #expect(try store.runs().count == 1)
        #expect(try store.indicators(run: second.runID) == second.indicators)
        #expect(first.indicators == second.indicators)
        // The county's figures of this period are found by region even though the run is the city's.
        let county = try store.indicators(regionCode: "330723", period: 2023, preferringPipeline: "demo-city")
        #expect(county.count == IndicatorDefinition.all.count + 1)   // + 研发三项综合排名
    }

    @Test func aFailingExportRollsTheRunBackAndLeavesThePreviousOutputs() throws {
        let dir = temporaryDirectory()
        var d = try demoCityPipeline(in: dir)
        let first = try PipelineRunner(definition: d).run()
        let before = try String(contentsOfFile: first.outputsDir + "/indicator.csv", encoding: .utf8)
        d.exports.append(ExportRequest(tables: ["no_such_table"], format: .csv))
        #expect(throws: YingtongError.self) { try PipelineRunner(definition: d).run() }
        let store = try Store(path: d.storePath, readOnly: true)
        defer { try? store.close() }
        #expect(try store.runs().map(\.id) == [first.runID])
        #expect(try String(contentsOfFile: first.outputsDir + "/indicator.csv", encoding: .utf8) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }
}
