import Foundation
import Testing
import YingtongModel
import YingtongIngest
import YingtongXML
import YingtongPipeline

/// The hostile-input corpus (`Hostile/`, made by `make_hostile.py`): files an enterprise, an export tool or an
/// attacker could send. Each goes through the `yingtong read` entry (`Inspector`) twice — with the default limits
/// and with tight ones — and must come out with no crash, every physical line accounted for, and every refusal
/// located and explained in Chinese.
@Suite struct HostileCorpusTests {
    static let folder = repositoryRoot.appendingPathComponent("Tests/YingtongReliabilityTests/Hostile")

    static var tight: InputLimits {
        var l = InputLimits()
        l.maxFieldBytes = 1024
        l.maxLineBytes = 4096
        l.maxHeaderColumns = 500
        l.maxXMLDepth = 16
        l.maxXMLTextBytes = 4096
        l.maxFindingsPerRecord = 3
        return l
    }

    @Test func theCorpusCoversEveryKindOfHostileInput() throws {
        let names = try files(in: Self.folder).map(\.name)
        #expect(names.count >= 40)
        for kind in ["csv-", "xml-", "sdmx-"] { #expect(names.contains { $0.hasPrefix(kind) }) }
        for topic in ["gb18030", "mixed", "quote", "ragged", "truncated", "nul", "binary", "scientific", "title",
                      "billion-laughs", "xxe", "declared"] {
            #expect(names.contains { $0.contains(topic) }, "语料缺少 \(topic) 类输入")
        }
    }

    @Test(arguments: [false, true])
    func everyFileIsReadAccountedAndLocated(tightLimits: Bool) throws {
        for (name, url) in try files(in: Self.folder) where !name.hasPrefix("sdmx-") {
            try check(name: name, url: url, limits: tightLimits ? Self.tight : InputLimits())
        }
    }

    func check(name: String, url: URL, limits: InputLimits) throws {
        var lines: [String] = []
        let inspector = Inspector(path: url.path, period: 2023, limits: limits)
        do {
            try inspector.run { lines.append($0) }
        } catch let e as YingtongError {
            // A file that cannot be opened as its format at all is refused whole, with a code and a Chinese reason.
            #expect(containsChinese(e.messageZh) && !e.code.isEmpty, "\(name): \(e)")
            return
        }
        let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let summary = try #require(objects.last, "\(name): 没有输出")
        #expect(summary["kind"] as? String == "summary", "\(name)")
        let physical = try #require(summary["physical_lines"] as? Int, "\(name)")
        let bytes = try [UInt8](Data(contentsOf: url))
        #expect(physical == physicalLines(bytes, loneCR: name.hasSuffix(".xml")), "\(name): 物理行 \(physical)")
        #expect(summary["balanced"] as? Bool == true, "\(name): 行数核对不平 \(summary)")
        let recordLines = summary["record_lines"] as? Int ?? -1
        let quarantined = summary["quarantined_lines"] as? Int ?? -1
        let layout = summary["layout_lines"] as? Int ?? -1
        #expect(recordLines + quarantined + layout == physical, "\(name)")
        for q in objects where q["kind"] as? String == "quarantine" {
            let line = q["line"] as? Int ?? 0
            let message = q["message"] as? String ?? ""
            #expect(line >= 1 && line <= max(physical, 1), "\(name): 隔离项位置 \(line) 不在 1…\(physical)")
            #expect(containsChinese(message), "\(name): 隔离项没有中文说明：\(q)")
            #expect((q["code"] as? String)?.hasPrefix("E-") == true, "\(name): \(q)")
        }
        for r in objects where r["kind"] as? String == "record" {
            let line = (r["provenance"] as? [String: Any])?["line"] as? Int ?? 0
            #expect(line >= 1 && line <= physical, "\(name): 记录位置 \(line)")
        }
    }

    /// SDMX goes through the reader a run uses (the `read` view prints raw observations without a line account).
    @Test func sdmxFilesAreAccountedAndLocated() throws {
        for (name, url) in try files(in: Self.folder) where name.hasPrefix("sdmx-") {
            var sink = Collecting()
            var reader = SDMXReader(source: SourceFile(index: 0, path: url.path, role: "macro", form: .macro))
            let account = try reader.read(batchSize: 100, into: &sink)
            #expect(account.balanced, "\(name): \(account)")
            #expect(account.physicalLines == physicalLines(try [UInt8](Data(contentsOf: url)), loneCR: true), "\(name)")
            #expect(!sink.quarantine.isEmpty, "\(name): 有问题的 SDMX 应被隔离")
            for q in sink.quarantine {
                #expect(q.line >= 1 && containsChinese(q.messageZh), "\(name): \(q)")
            }
        }
    }

    /// The command itself, on one file of each kind: exit 0 and a balanced summary.
    @Test func theReadCommandHandlesHostileFiles() throws {
        for name in ["csv-binary-junk.csv", "xml-billion-laughs.xml", "csv-quote-never-closed.csv"] {
            let r = try runCLI(["read", Self.folder.appendingPathComponent(name).path])
            #expect(r.status == 0, "\(name): \(r.err)")
            let last = try #require(r.out.split(separator: "\n").last)
            #expect(last.contains("\"balanced\":true"), "\(name): \(last)")
        }
    }
}

struct Collecting: RecordSink {
    var records = 0
    var quarantine: [QuarantineEntry] = []
    mutating func accept(_ batch: RawBatch) throws { records += batch.count }
    mutating func quarantine(_ entry: QuarantineEntry) throws { quarantine.append(entry) }
}

/// The built `yingtong` executable, next to the test bundle in the build folder.
func yingtongBinary() throws -> URL {
    let bundle = Bundle.main.bundleURL.deletingLastPathComponent()
    for candidate in [Bundle.main.bundleURL.appendingPathComponent("yingtong"), bundle.appendingPathComponent("yingtong"),
                      repositoryRoot.appendingPathComponent(".build/debug/yingtong")]
    where FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
    }
    throw CocoaError(.fileNoSuchFile)
}

func runCLI(_ args: [String], cwd: URL = repositoryRoot, environment: [String: String]? = nil) throws
    -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = try yingtongBinary()
    p.arguments = args
    p.currentDirectoryURL = cwd
    if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
