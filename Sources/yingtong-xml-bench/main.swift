import Foundation
import YingtongIngest
import YingtongModel
import YingtongXML

/// Counts what a reader delivers, so the benchmark measures reading and nothing else.
struct CountingSink: RecordSink {
    var rows = 0
    var cells = 0
    var quarantined = 0
    var explanations = 0
    mutating func accept(_ batch: RawBatch) throws {
        rows += batch.count
        for s in batch.cellStart where s >= 0 { cells += 1 }
    }
    mutating func quarantine(_ entry: QuarantineEntry) throws { quarantined += 1 }
    mutating func explanation(_ explanation: Explanation) throws { explanations += 1 }
}

let args = CommandLine.arguments
func usage() -> Never {
    FileHandle.standardError.write(Data("usage: yingtong-xml-bench generate <enterprises> <out.xml> [seed] | read <file.xml> [batchSize]\n".utf8))
    exit(2)
}
guard args.count >= 3 else { usage() }
switch args[1] {
case "generate":
    guard args.count >= 4, let n = Int(args[2]) else { usage() }
    let seed = args.count > 4 ? UInt64(args[4]) ?? 1 : 1
    try BureauXMLWriter.write(enterprises: n, seed: seed, to: URL(fileURLWithPath: args[3]))
case "read":
    let start = Date()
    var sink = CountingSink()
    var reader = YingtongXMLReader(source: SourceFile(index: 0, path: args[2], role: "bureau_rd"))
    let batchSize = args.count > 3 ? Int(args[3]) ?? 4096 : 4096
    let account = try reader.read(batchSize: batchSize, into: &sink)
    let seconds = Date().timeIntervalSince(start)
    let mb = Double(account.bytes) / 1_000_000
    print(String(format: "%.1f MB in %.2f s = %.1f MB/s; enterprises %d, rows %d, cells %d, quarantined %d, notes %d, lines %d (balanced %@)",
                 mb, seconds, mb / seconds, account.records, sink.rows, sink.cells, sink.quarantined,
                 sink.explanations, account.physicalLines, account.balanced ? "yes" : "no"))
default:
    usage()
}
