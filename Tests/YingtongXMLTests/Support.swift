import Foundation
import YingtongIngest
import YingtongModel
@testable import YingtongXML

/// Keeps everything a reader hands over, for assertions.
struct CollectingSink: RecordSink {
    var batches: [RawBatch] = []
    var quarantined: [QuarantineEntry] = []
    var explanations: [Explanation] = []
    var notices: [String] = []

    mutating func accept(_ batch: RawBatch) throws { batches.append(batch) }
    mutating func quarantine(_ entry: QuarantineEntry) throws { quarantined.append(entry) }
    mutating func explanation(_ explanation: Explanation) throws { explanations.append(explanation) }
    mutating func notice(_ messageZh: String) { notices.append(messageZh) }

    func batches(of form: Form) -> [RawBatch] { batches.filter { $0.layout.form == form } }

    /// Every row of `form` as code → cell text.
    func rows(of form: Form) -> [[String: String]] {
        var out: [[String: String]] = []
        for b in batches(of: form) {
            for r in 0..<b.count {
                var row: [String: String] = [:]
                for (i, binding) in b.layout.bindings.enumerated() {
                    if let t = b.cellText(r, i) { row[binding.field.code] = t }
                }
                out.append(row)
            }
        }
        return out
    }

    func units(of form: Form) -> [[String: String]] {
        var out: [[String: String]] = []
        for b in batches(of: form) {
            for r in 0..<b.count {
                var row: [String: String] = [:]
                for (i, binding) in b.layout.bindings.enumerated() {
                    if let u = b.cellUnit(r, i) { row[binding.field.code] = u }
                }
                out.append(row)
            }
        }
        return out
    }

    func provenance(of form: Form) -> [Provenance] { batches(of: form).flatMap(\.provenance) }
}

/// One directory per test process; tests that write many files (the damage sweeps, generated bureau files)
/// remove theirs, the small ones stay for a look when a test fails.
let testDirectory: URL = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-xml-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}()

func temporaryFile(_ name: String, _ data: Data) throws -> String {
    let url = testDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)")
    try data.write(to: url)
    return url.path
}

func temporaryURL(_ name: String) -> URL { testDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)") }

func temporaryFile(_ name: String, _ text: String) throws -> String { try temporaryFile(name, Data(text.utf8)) }

func readYingtong(_ path: String, batchSize: Int = 1000, limits: XMLLimits = XMLLimits()) throws -> (CollectingSink, LineAccount) {
    var sink = CollectingSink()
    var reader = YingtongXMLReader(source: SourceFile(index: 3, path: path, role: "bureau_rd"), limits: limits)
    let account = try reader.read(batchSize: batchSize, into: &sink)
    return (sink, account)
}

func hostileFixture(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "Hostile") else {
        throw YingtongError("E-TEST", "fixture \(name) missing")
    }
    return url.path
}

/// Encodes with iconv (the writer's transcoder), as a bureau's system would.
func encode(_ text: String, as encoding: String) throws -> Data {
    let path = try temporaryFile("enc.bin", Data())
    defer { try? FileManager.default.removeItem(atPath: path) }
    let fh = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    _ = try Transcoder(to: encoding).write(text, to: fh)
    try fh.close()
    return try Data(contentsOf: URL(fileURLWithPath: path))
}

func peakRSSKilobytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss
}
