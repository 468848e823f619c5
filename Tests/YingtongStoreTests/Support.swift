import Foundation
import YingtongModel
@testable import YingtongStore

/// A fresh store file in its own temporary directory.
func makeStore(_ name: String = #function) throws -> (Store, String) {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("yingtong-store-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("store.sqlite").path
    return (try Store(path: path), path)
}

/// One hand-made record for a test batch.
struct TestRow {
    var uscc: String
    var period = 2023
    var submittedAt: String? = nil
    var sequence: Int64
    var source: Int32 = 0
    var line: Int32
    var numbers: [String: Milli] = [:]
    var texts: [String: String] = [:]
    var region: String? = "330122"
    var industry: String? = "C3841"
}

func batch(_ form: Form, _ rows: [TestRow]) -> RecordBatch {
    let fields = FieldDictionary.standard.fields(of: form)
    var b = RecordBatch(form: form, formVersion: "2021", fields: fields, capacity: rows.count)
    for r in rows {
        b.uscc.append(r.uscc)
        b.name.append("企业\(r.uscc.suffix(4))")
        b.regionCode.append(r.region)
        b.industryCode.append(r.industry)
        b.period.append(r.period)
        b.submittedAt.append(r.submittedAt)
        b.sequence.append(r.sequence)
        b.provenance.append(Provenance(sourceIndex: r.source, line: r.line, lineEnd: r.line, byteOffset: 0))
        for k in b.columns.indices {
            let f = b.columns[k].field
            if f.type.isNumeric, let m = r.numbers[f.code] {
                b.columns[k].append(m)
            } else if !f.type.isNumeric, let t = r.texts[f.code] {
                b.columns[k].append(text: t)
            } else {
                b.columns[k].appendMissing()
            }
        }
    }
    return b
}

func run(_ pipeline: String = "county", region: String = "330122", period: Int = 2023) -> RunInfo {
    RunInfo(pipeline: pipeline, regionCode: region, period: period, yingtongVersion: "test")
}

func violation(_ rule: String, _ severity: Severity, uscc: String, period: Int = 2023, project: String? = nil,
               source: Int32 = 0, line: Int32, level: Int = 2) -> Violation {
    Violation(rule: rule, severity: severity, level: level, uscc: uscc, period: period, projectName: project,
              fields: ["rd_exp_total"], observed: "1", messageZh: "测试", sourceIndex: source, line: line)
}

/// 千元 with three decimals exactly, e.g. k("1234.567").
func k(_ text: String) -> Milli { NumberText.parse(text)! }

let usccA = "91330122MA2H3K6J0M"
let usccB = "91330122MA2H3K6J1K"
let usccC = "91330122MA2H3K6J2F"
