import Foundation
import Logging
import PostgresNIO
import Testing
import YingtongModel
import YingtongStore
@testable import YingtongWarehouse

/// The warehouse tests need a PostgreSQL server. `.ci/run` starts one on 127.0.0.1 and exports its URL as
/// YINGTONG_TEST_POSTGRES_URL; without it (a laptop with no server) these tests are skipped and say why.
let postgresURL = ProcessInfo.processInfo.environment["YINGTONG_TEST_POSTGRES_URL"]

/// A committed run of one county: two 107-2 records, a quarantined line with tab and newline in its raw text, and
/// indicators.
private func makeStore(pipeline: String, region: String, period: Int = 2023, exp: String = "2009.1") throws -> Store {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-wh-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let store = try Store(path: dir.appendingPathComponent("store.sqlite").path)
    let w = try store.beginRun(RunInfo(pipeline: pipeline, regionCode: region, period: period, yingtongVersion: "test"))
    var b = RecordBatch(form: .activity, formVersion: "2021", fields: FieldDictionary.standard.fields(of: .activity))
    for (i, uscc) in ["91330727MA2YDM6Y9J", "91330727MA2NH61Y5P"].enumerated() {
        b.uscc.append(uscc); b.name.append("企业\\\(i)"); b.regionCode.append(region); b.industryCode.append("C3481")
        b.period.append(period); b.submittedAt.append(nil); b.sequence.append(Int64(i))
        b.provenance.append(Provenance(sourceIndex: 0, line: Int32(3 + i), lineEnd: Int32(3 + i), byteOffset: 0))
    }
    for k in b.columns.indices {
        for i in 0..<2 {
            switch b.columns[k].field.code {
            case "rd_exp_total": b.columns[k].append(NumberText.parse(exp)!)
            // A non-integral head count (V005 evidence) is kept as it arrived, in the warehouse too.
            case "rd_staff_total": b.columns[k].append(NumberText.parse(i == 0 ? "4.5" : "12")!)
            default: b.columns[k].appendMissing()
            }
        }
    }
    try w.insert(b)
    try w.insert(quarantine: [QuarantineEntry(sourceIndex: 0, file: "a.csv", line: 9, lineEnd: 10, raw: "x\ty\nz\\N",
                                              code: "E-CSV-QUOTE", messageZh: "引号未闭合")])
    try w.insert(indicators: [
        IndicatorRow(regionCode: region, period: period, code: "rd_exp_cost_total", nameZh: "研究开发费用合计",
                     value: Decimal(string: exp)! * 2 / 100_000, unit: "亿元"),
        IndicatorRow(regionCode: region, period: period, code: "rd_intensity", nameZh: "R&D经费投入强度", value: nil,
                     unit: "%", note: "缺少宏观数据 GDP"),
    ])
    try w.commit()
    return store
}

private func query(_ sql: String) async throws -> [[String?]] {
    let c = try await PostgresWarehouse(location: WarehouseLocation(url: postgresURL!)).connect()
    defer { Task { try? await c.close() } }
    var out: [[String?]] = []
    for try await row in try await c.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test")) {
        out.append(try row.map { cell in try cell.decode(String?.self) })
    }
    return out
}

@Suite struct WarehouseLocationTests {
    @Test func urlsParseAndNeverShowThePassword() throws {
        let l = try WarehouseLocation(url: "postgresql://yt:s%40cret@127.0.0.1:5433/warehouse")
        #expect(l.user == "yt" && l.password == "s@cret" && l.port == 5433 && l.database == "warehouse")
        #expect(!l.redacted.contains("cret"))
        #expect(throws: YingtongError.self) { try WarehouseLocation(url: "mysql://x@h/db") }
    }

    @Test func copyTextEscapesSeparators() {
        var out: [UInt8] = []
        CopyText.escape("a\tb\nc\\d\re", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "a\\tb\\nc\\\\d\\re")
    }
}

@Suite(.serialized, .enabled(if: postgresURL != nil, "没有 PostgreSQL：设置 YINGTONG_TEST_POSTGRES_URL 后运行（.ci/run 会启动本机服务器并设置它）"))
struct WarehouseTests {
    @Test func aLoadCopiesEveryTableAndARerunIsIdempotent() async throws {
        let pipeline = "wh-\(UUID().uuidString.prefix(8))"
        let store = try makeStore(pipeline: pipeline, region: "330727")
        defer { try? store.close() }
        let warehouse = PostgresWarehouse(location: try WarehouseLocation(url: postgresURL!))
        let run = try store.runs()[0].id
        let first = try await warehouse.load(store: store, runID: run)
        #expect(first.rows["record"] == 2 && first.rows["quarantine"] == 1 && first.rows["indicator"] == 2)
        let second = try await warehouse.load(store: store, runID: run)
        #expect(second.rows == first.rows)
        let runs = try await query("SELECT count(*)::text FROM run WHERE pipeline = '\(pipeline)'")
        #expect(runs == [["1"]])
        let records = try await query("""
            SELECT r.uscc, r.rd_exp_total::text, r.name, r.rd_staff_total::text FROM record r JOIN run ON run.id = r.run_id
            WHERE run.pipeline = '\(pipeline)' ORDER BY r.uscc
            """)
        #expect(records == [["91330727MA2NH61Y5P", "2009100", "企业\\1", "12"], ["91330727MA2YDM6Y9J", "2009100", "企业\\0", "4.5"]])
        let raw = try await query("SELECT q.raw FROM quarantine q JOIN run ON run.id = q.run_id WHERE run.pipeline = '\(pipeline)'")
        #expect(raw == [["x\ty\nz\\N"]])
        let indicators = try await query("""
            SELECT i.code, i.value, i.note FROM indicator i JOIN run ON run.id = i.run_id
            WHERE run.pipeline = '\(pipeline)' ORDER BY i.code
            """)
        #expect(indicators == [["rd_exp_cost_total", "0.040182", nil], ["rd_intensity", nil, "缺少宏观数据 GDP"]])
    }

    @Test func severalCountiesShareOneWarehouseWithoutClobbering() async throws {
        let pipeline = "wh-\(UUID().uuidString.prefix(8))"
        // Two separate SQLite stores: both number their first run 1.
        let a = try makeStore(pipeline: pipeline, region: "330727", exp: "100")
        let b = try makeStore(pipeline: pipeline, region: "330702", exp: "300")
        defer { try? a.close(); try? b.close() }
        let warehouse = PostgresWarehouse(location: try WarehouseLocation(url: postgresURL!))
        let la = try await warehouse.load(store: a, runID: a.runs()[0].id)
        let lb = try await warehouse.load(store: b, runID: b.runs()[0].id)
        #expect(la.warehouseRunID != lb.warehouseRunID)
        _ = try await warehouse.load(store: a, runID: a.runs()[0].id)   // county A again: B is untouched
        let rows = try await query("""
            SELECT run.region_code, count(*)::text, sum(r.rd_exp_total)::text FROM record r JOIN run ON run.id = r.run_id
            WHERE run.pipeline = '\(pipeline)' GROUP BY run.region_code ORDER BY run.region_code
            """)
        #expect(rows == [["330702", "2", "600000"], ["330727", "2", "200000"]])
    }
}
