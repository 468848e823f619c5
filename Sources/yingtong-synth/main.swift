// A thin driver for benchmarks and manual runs until the CLI grows `yingtong generate`; it only parses
// positional arguments and calls YingtongGenerate.
import Foundation
import YingtongGenerate

let args = CommandLine.arguments
guard args.count == 5, let n = Int(args[1]), let seed = UInt64(args[2]), let period = Int(args[3]) else {
    FileHandle.standardError.write(Data("用法：yingtong-synth <企业数> <种子> <报告期> <输出目录>\n".utf8))
    exit(2)
}
do {
    let start = Date()
    let s = try SyntheticCycle(enterprises: n, seed: seed, period: period, format: .csv)
        .write(to: URL(fileURLWithPath: args[4], isDirectory: true))
    let seconds = Date().timeIntervalSince(start)
    let total = s.fileBytes.values.reduce(0, +)
    print("enterprises=\(s.enterprises) activity_rows=\(s.activityRows) project_rows=\(s.projectRows) "
        + "roster_rows=\(s.rosterRows) bad_check=\(s.badCheckDigits) excel=\(s.excelCodes) "
        + "negative=\(s.negativeCounts) non_numeric=\(s.nonNumericValues)")
    for (f, b) in s.fileBytes.sorted(by: { $0.key < $1.key }) { print("  \(f): \(b) bytes") }
    print(String(format: "total=%.1f MB seconds=%.2f MB/s=%.1f", Double(total) / 1e6, seconds,
                 Double(total) / 1e6 / max(seconds, 1e-9)))
} catch {
    FileHandle.standardError.write(Data("生成失败：\(error)\n".utf8))
    exit(1)
}
