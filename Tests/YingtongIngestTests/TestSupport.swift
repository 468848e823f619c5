import Foundation
#if canImport(Glibc)
import Glibc
#endif
import YingtongModel
@testable import YingtongIngest

/// Encodes text the way Excel's "CSV (逗号分隔)" does on a Chinese Windows: GB18030 bytes.
func gb18030(_ s: String) -> [UInt8] {
    let cd = iconv_open("GB18030", "UTF-8")
    defer { iconv_close(cd) }
    var input = Array(s.utf8)
    var output = [UInt8](repeating: 0, count: input.count * 2 + 16)
    var inLeft = input.count, outLeft = output.count
    input.withUnsafeMutableBytes { ip in
        output.withUnsafeMutableBytes { op in
            var i: UnsafeMutablePointer<CChar>? = ip.baseAddress!.assumingMemoryBound(to: CChar.self)
            var o: UnsafeMutablePointer<CChar>? = op.baseAddress!.assumingMemoryBound(to: CChar.self)
            _ = iconv(cd, &i, &inLeft, &o, &outLeft)
        }
    }
    return Array(output.prefix(output.count - outLeft))
}

func tempFile(_ bytes: [UInt8], name: String = "input.csv") -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try! Data(bytes).write(to: url)
    return url.path
}

/// Collects everything a reader hands on.
struct CollectingSink: RecordSink {
    var batches: [RawBatch] = []
    var quarantined: [QuarantineEntry] = []
    var notices: [String] = []

    mutating func accept(_ batch: RawBatch) throws { batches.append(batch) }
    mutating func quarantine(_ entry: QuarantineEntry) throws { quarantined.append(entry) }
    mutating func notice(_ messageZh: String) { notices.append(messageZh) }

    var recordCount: Int { batches.reduce(0) { $0 + $1.count } }

    func cell(_ record: Int, _ code: String) -> String? {
        var r = record
        for b in batches {
            if r < b.count { return b.layout.binding(for: code).flatMap { b.cellText(r, $0) } }
            r -= b.count
        }
        return nil
    }
}

func read(_ bytes: [UInt8], form: Form? = nil, encoding: String = "auto", batchSize: Int = 4096) throws
    -> (CollectingSink, LineAccount, CSVReader) {
    var reader = CSVReader(source: SourceFile(index: 0, path: tempFile(bytes), role: "enterprise_rd", form: form,
                                              encoding: encoding))
    var sink = CollectingSink()
    let account = try reader.read(batchSize: batchSize, into: &sink)
    return (sink, account, reader)
}
