import Foundation
import Testing
import YingtongModel
import YingtongStore
import GRDB
@testable import YingtongPipeline

/// Bureau vs enterprise reconciliation over fixtures/reconcile (see its README for what differs).
@Suite struct ReconcileTests {
    func run(reconcile: String) throws -> (RunResult, [Row], Int64?) {
        let dir = temporaryDirectory()
        let fixtures = repositoryRoot.appendingPathComponent("fixtures/reconcile").path
        let yaml = """
            pipeline: reconcile-test
            region: "330727"
            period: 2023
            store: \(dir.path)/yingtong.sqlite
            outputs: {dir: \(dir.path)/out}
            sources:
              - {role: bureau_rd, path: "\(fixtures)/统计局_107-2.xml"}
              - {role: enterprise_rd, form: "107-2", path: "\(fixtures)/107-2_企业报送.csv"}
            \(reconcile)
            """
        let path = dir.appendingPathComponent("pipeline.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try PipelineRunner(definition: PipelineDefinition.load(path: path)).run()
        let store = try Store(path: result.storePath, readOnly: true)
        defer { try? store.close() }
        return try store.read { db in
            let v = try Row.fetchAll(db, sql: "SELECT * FROM violation WHERE run_id = ? AND rule = 'RC01' ORDER BY uscc, fields",
                                     arguments: [result.runID])
            let kept = try Int64.fetchOne(db, sql: "SELECT rd_exp_total FROM record WHERE run_id = ? AND uscc = '91330727MA2NH61Y5P'",
                                          arguments: [result.runID])
            return (result, v, kept)
        }
    }

    @Test func theBureauWinsByDefaultAndEveryDifferenceIsAQueryWithBothValues() throws {
        let (result, events, kept) = try run(reconcile: "")
        #expect(kept == 17_900_000)  // 1790 万元, the bureau's, although the enterprise's submission is later
        #expect(events.map { $0["fields"] as String } == ["[\"rd_exp_total\"]", "[\"rd_staff_total\"]"])
        let exp = try #require(events.first)
        #expect((exp["uscc"] as String) == "91330727MA2NH61Y5P")
        #expect((exp["level"] as Int) == 3 && (exp["severity"] as String) == "warning")
        #expect((exp["observed"] as String) == "bureau=17900; enterprise=17817.8")
        #expect((exp["imbalance"] as String?) == "-82.2")
        #expect((exp["message"] as String).contains("已以统计局数据为准"))
        #expect(result.counts["bureau_enterprise_disagreements"] == 2)
        #expect(result.counts["resubmitted_records"] == 2)
    }

    @Test func theEnterpriseCanBeMadeAuthoritative() throws {
        let (_, events, kept) = try run(reconcile: "reconcile: {authority: enterprise}")
        #expect(kept == 17_817_800)
        #expect(events.count == 2)
        #expect(events.allSatisfy { ($0["message"] as String).contains("已以企业报送数据为准") })
    }

    @Test func theToleranceIsASetting() throws {
        let (_, events, _) = try run(reconcile: "reconcile: {tolerance: 100}")
        #expect(events.isEmpty)
    }
}
