// Benchmark of the store's bulk load: run by scripts/bench-store on a release build, never by `swift test`.
//
// Modes (same SQL, same values, same run transaction, same pragmas):
//   args  GRDB prepared statement, `execute(arguments: StatementArguments([DatabaseValue]))` per row
//   raw   the product path: RunWriter.insert(batch) — GRDB statement + sqlite3_bind_* / step / reset
//   capi  plain C API on GRDB's connection pointer: sqlite3_prepare_v3(PERSISTENT), bind, step, reset
// Usage: yingtong-bench-store MODE DBPATH [records] [projects] [--defer-indexes]
import Foundation
import GRDB
import GRDBSQLite
import YingtongModel
import YingtongStore

let args = CommandLine.arguments
guard args.count >= 3, ["args", "raw", "capi"].contains(args[1]) else {
    print("usage: yingtong-bench-store args|raw|capi DBPATH [records=1000000] [projects=2000000] [--defer-indexes]")
    exit(2)
}
let mode = args[1]
let path = args[2]
let nRecords = args.count > 3 ? Int(args[3]) ?? 1_000_000 : 1_000_000
let nProjects = args.count > 4 ? Int(args[4]) ?? 2_000_000 : 2_000_000
let deferIndexes = args.contains("--defer-indexes")
let batchSize = 4096

for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }

/// Deterministic pseudo-random numbers (64-bit LCG): the same data for every mode.
struct LCG {
    var s: UInt64
    mutating func next() -> UInt64 { s = s &* 6364136223846793005 &+ 1442695040888963407; return s >> 11 }
    mutating func below(_ n: UInt64) -> Int64 { Int64(next() % n) }
}

let dict = FieldDictionary.standard

/// A bijection of 0..<n (n > 0): multiplication by a large prime coprime with n, modulo n.
func scatter(_ i: Int, _ n: Int) -> Int {
    var p = 1_000_003
    while gcd(p, n) != 1 { p += 2 }
    return (i * p + 12_345) % n
}
func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

func makeBatch(_ form: Form, start: Int, count: Int, rng: inout LCG) -> RecordBatch {
    var b = RecordBatch(form: form, formVersion: "2021", fields: dict.fields(of: form), capacity: count)
    for i in start..<(start + count) {
        // Projects: ~2 per enterprise, so the USCC repeats for consecutive rows as in a real 107-1 file.
        // One 107-2 record in 100 is a resubmission of the previous enterprise (a later time wins).
        // Files are not sorted by USCC: enterprise ids are a fixed permutation of the row order, so index
        // maintenance during the load sees random keys as it would on real exports.
        let ent = scatter(form == .projects ? i / 2 : (i % 100 == 99 ? i - 1 : i),
                          form == .projects ? (nProjects + 1) / 2 : nRecords)
        b.uscc.append("91330122" + String(format: "%09d", ent) + "X")
        b.name.append("某某精密机械有限公司\(ent)")
        b.regionCode.append("330122")
        b.industryCode.append("C3484")
        b.period.append(2023)
        b.submittedAt.append((form == .activity && i % 100 == 99) || (form == .projects && i % 400 == 2)
                             ? "2024-03-20T09:00:00+08:00" : "2024-03-15T10:02:00+08:00")
        b.sequence.append(Int64(i))
        b.provenance.append(Provenance(sourceIndex: 0, line: Int32(i + 2), lineEnd: Int32(i + 2), byteOffset: Int64(i) * 400))
        for k in b.columns.indices {
            let f = b.columns[k].field
            if f.type.isNumeric {
                if rng.below(10) < 7 {
                    let v: Int64 = f.type == .money ? rng.below(50_000_000_000) : f.type == .count ? rng.below(500) * 1000 : rng.below(120_000)
                    b.columns[k].append(Milli(raw: v))
                } else {
                    b.columns[k].appendMissing()
                }
            } else {
                switch f.code {
                case "project_name": b.columns[k].append(text: "高精度伺服阀芯加工工艺研究\(i)")
                case "start_ym": b.columns[k].append(text: "202203")
                case "end_ym": b.columns[k].append(text: "202406")
                case "source", "target", "stage": b.columns[k].append(text: String(rng.below(5) + 1))
                case "mode": b.columns[k].append(text: "10")
                case "result_form": b.columns[k].append(text: "13")
                default: b.columns[k].appendMissing()
                }
            }
        }
    }
    return b
}

/// Values of row `i` exactly as the store's loader converts them (money → 元 integer, count → integer, real).
func values(_ b: RecordBatch, _ i: Int, run: Int64, fieldCodes: [String]) -> [DatabaseValue] {
    var out: [DatabaseValue] = []
    out.reserveCapacity(15 + fieldCodes.count)
    let p = b.provenance[i]
    out.append(run.databaseValue)
    out.append(b.uscc[i].databaseValue)
    out.append(b.period[i].databaseValue)
    out.append(b.name[i].databaseValue)
    out.append(b.regionCode[i].databaseValue)
    out.append(b.industryCode[i].databaseValue)
    out.append(b.formVersion.databaseValue)
    out.append(b.submittedAt[i].databaseValue)
    out.append(SubmissionTime.key(b.submittedAt[i]).databaseValue)
    out.append(b.sequence[i].databaseValue)
    out.append(Int64(p.sourceIndex).databaseValue)
    out.append(Int64(p.line).databaseValue)
    out.append(Int64(p.lineEnd).databaseValue)
    out.append(p.elementPath.databaseValue)
    out.append("clean".databaseValue)
    for c in b.columns {
        guard c.present[i] else { out.append(.null); continue }
        switch c.field.type {
        case .money: out.append(c.numbers[i].databaseValue)
        case .count:
            let r = c.numbers[i]
            out.append(r % 1000 == 0 ? (r / 1000).databaseValue : (Double(r) / 1000).databaseValue)
        case .quantity, .ratio: out.append((Double(c.numbers[i]) / 1000).databaseValue)
        default: out.append(c.texts[i].databaseValue)
        }
    }
    return out
}

func insertSQL(_ form: Form) -> String {
    let fixed = ["run_id", "uscc", "period", "name", "region_code", "industry_code", "form_version", "submitted_at",
                 "submitted_key", "sequence", "source_index", "line", "line_end", "element_path", "status"]
    let cols = fixed + dict.fields(of: form).map(\.code)
    let table = form == .activity ? "record" : "project"
    return "INSERT INTO \(table) (\(cols.map { "\"\($0)\"" }.joined(separator: ","))) VALUES (\(Array(repeating: "?", count: cols.count).joined(separator: ",")))"
}

nonisolated(unsafe) let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

func bindC(_ stmt: OpaquePointer, _ b: RecordBatch, _ i: Int, run: Int64) {
    var idx: Int32 = 0
    func text(_ s: String?) {
        idx += 1
        guard var s else { sqlite3_bind_null(stmt, idx); return }
        let j = idx
        if s.isEmpty { sqlite3_bind_text(stmt, j, "", 0, transient); return }
        s.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { c in
                _ = sqlite3_bind_text(stmt, j, c.baseAddress, Int32(c.count), transient)
            }
        }
    }
    func int(_ v: Int64) { idx += 1; sqlite3_bind_int64(stmt, idx, v) }
    let p = b.provenance[i]
    int(run); text(b.uscc[i]); int(Int64(b.period[i])); text(b.name[i]); text(b.regionCode[i]); text(b.industryCode[i])
    text(b.formVersion); text(b.submittedAt[i]); text(SubmissionTime.key(b.submittedAt[i])); int(b.sequence[i])
    int(Int64(p.sourceIndex)); int(Int64(p.line)); int(Int64(p.lineEnd)); text(p.elementPath); text("clean")
    for c in b.columns {
        guard c.present[i] else { idx += 1; sqlite3_bind_null(stmt, idx); continue }
        switch c.field.type {
        case .money: int(c.numbers[i])
        case .count:
            let r = c.numbers[i]
            if r % 1000 == 0 { int(r / 1000) } else { idx += 1; sqlite3_bind_double(stmt, idx, Double(r) / 1000) }
        case .quantity, .ratio: idx += 1; sqlite3_bind_double(stmt, idx, Double(c.numbers[i]) / 1000)
        default: text(c.texts[i])
        }
    }
}

let store = try Store(path: path, defersIndexes: deferIndexes)
let writer = try store.beginRun(RunInfo(pipeline: "bench", regionCode: "330122", period: 2023, yingtongVersion: "bench"))
var rng = LCG(s: 42)
let clock = ContinuousClock()

@MainActor func load(_ form: Form, total: Int) throws -> Duration {
    var spent = Duration.zero
    var start = 0
    let sql = insertSQL(form)
    let codes = dict.fields(of: form).map(\.code)
    while start < total {
        let n = min(batchSize, total - start)
        let batch = makeBatch(form, start: start, count: n, rng: &rng)
        let t0 = clock.now
        switch mode {
        case "raw":
            try writer.insert(batch)
        case "args":
            try writer.withDatabase { db in
                let stmt = try db.cachedStatement(sql: sql)
                for i in 0..<batch.count {
                    try stmt.execute(arguments: StatementArguments(values(batch, i, run: writer.runID, fieldCodes: codes)))
                }
            }
        default:
            try writer.withDatabase { db in
                var stmt: OpaquePointer?
                guard sqlite3_prepare_v3(db.sqliteConnection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil) == SQLITE_OK,
                      let stmt else { throw DatabaseError(message: "prepare failed") }
                defer { sqlite3_finalize(stmt) }
                for i in 0..<batch.count {
                    bindC(stmt, batch, i, run: writer.runID)
                    guard sqlite3_step(stmt) == SQLITE_DONE else {
                        throw DatabaseError(message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                    }
                    sqlite3_reset(stmt)
                }
            }
        }
        spent += clock.now - t0
        start += n
    }
    return spent
}

func secs(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func report(_ what: String, _ n: Int, _ d: Duration) {
    print(String(format: "%@ %@: %d rows in %.2f s = %.0f rows/s", mode, what, n, secs(d), Double(n) / secs(d)))
}

let tr = try load(.activity, total: nRecords)
report("107-2 record insert", nRecords, tr)
let tp = try load(.projects, total: nProjects)
report("107-1 project insert", nProjects, tp)

// Findings as a rule engine would produce them: a warning on 5 % of records, an error on 1 %, a warning on
// 2 % of projects.
var t0 = clock.now
var found: [Violation] = []
func uscc(_ ent: Int) -> String { "91330122" + String(format: "%09d", ent) + "X" }
for i in 0..<nRecords where i % 20 == 0 || i % 100 == 1 {
    found.append(Violation(rule: i % 20 == 0 ? "R212" : "R102", severity: i % 20 == 0 ? .warning : .error, level: 2,
                           uscc: uscc(scatter(i, nRecords)), period: 2023, fields: ["rd_exp_total"], observed: "0",
                           messageZh: "加计扣除为0", sourceIndex: 0, line: Int32(i + 2)))
}
for i in stride(from: 0, to: nProjects, by: 50) {
    found.append(Violation(rule: "R217", severity: .warning, level: 2, uscc: uscc(scatter(i / 2, (nProjects + 1) / 2)), period: 2023,
                           projectName: "高精度伺服阀芯加工工艺研究\(i)", fields: ["start_ym"], observed: "",
                           messageZh: "项目周期过短", sourceIndex: 0, line: Int32(i + 2)))
}
try writer.insert(violations: found)
print(String(format: "%@ violation insert: %d rows in %.2f s", mode, found.count, secs(clock.now - t0)))
t0 = clock.now
try writer.finishLoading()
print(String(format: "%@ finishLoading (secondary indexes): %.2f s", mode, secs(clock.now - t0)))
t0 = clock.now
let res = try writer.resolveResubmissions()
print(String(format: "%@ resolveResubmissions: %.2f s (moved %d records, %d projects)", mode, secs(clock.now - t0), res.records, res.projects))
t0 = clock.now
let st = try writer.applyStatuses()
print(String(format: "%@ applyStatuses: %.2f s (records rejected %d, flagged %d; projects rejected %d, flagged %d)", mode,
             secs(clock.now - t0), st.records[.rejected] ?? 0, st.records[.flagged] ?? 0,
             st.projects[.rejected] ?? 0, st.projects[.flagged] ?? 0))
t0 = clock.now
try writer.commit()
print(String(format: "%@ commit: %.2f s", mode, secs(clock.now - t0)))
try store.close()
let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
print(String(format: "%@ total insert %.2f s; database %.0f MB", mode, secs(tr + tp), Double(size) / 1e6))
