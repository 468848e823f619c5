import Foundation
import YingtongModel
import YingtongIngest
import YingtongNormalize
import YingtongXML
import YingtongRules

/// The entry points the libFuzzer targets (`Fuzz/`) and the regression-corpus test (`swift test`) share, so a
/// crashing input found by fuzzing is replayed through exactly the code that crashed.
///
/// Each entry feeds arbitrary bytes to one reader the way a run would and returns the invariants the input broke
/// (empty when all hold). A crash or hang is the other kind of failure; the fuzz driver turns a non-empty result
/// into a crash too, so libFuzzer keeps the input.
///
/// ```swift
/// let problems = FuzzEntries.csv(Array("统一社会信用代码,报告期\n".utf8))
/// precondition(problems.isEmpty)
/// ```
public enum FuzzEntries {
    /// The targets by name, as `scripts/fuzz` and `Tests/Corpus/<name>/` call them.
    public static let targets: [String: @Sendable ([UInt8], String?) -> [String]] = [
        "csv": { csv($0, scratch: $1) },
        "xml": { yingtongXML($0, scratch: $1) },
        "sdmx": { sdmx($0, scratch: $1) },
        "rules": { data, _ in ruleExpression(data) },
    ]

    /// The libFuzzer callback body: runs `target` on the input and crashes (so libFuzzer keeps the input) when
    /// an invariant breaks. One scratch file per process and target, rewritten for every input.
    public static func fuzzOne(_ target: String, _ bytes: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        let data = size > 0 && bytes != nil ? Array(UnsafeBufferPointer(start: bytes, count: size)) : []
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        guard let run = targets[target] else { fatalError("unknown fuzz target \(target)") }
        let problems = run(data, "\(dir)/yingtong-fuzz-\(getpid())-\(target).bin")
        if !problems.isEmpty {
            fatalError("fuzz target \(target): invariant broken:\n" + problems.joined(separator: "\n"))
        }
        return 0
    }

    // MARK: CSV

    /// The first byte picks the declared encoding, the form, the decoder chunk size and whether the resource
    /// limits are lowered (so fuzzing reaches chunk boundaries and limit paths with small inputs); the rest is the
    /// file. The CSV reader over the streaming decoder, then normalization, as in a run.
    public static func csv(_ data: [UInt8], scratch: String? = nil) -> [String] {
        guard let control = data.first else { return [] }
        let body = Array(data.dropFirst())
        let encodings = ["auto", "utf-8", "gb18030", "cp936"]
        let forms: [Form?] = [nil, .activity, .projects, .roster]
        let chunks = [1 << 20, 7, 61, 1021]
        let encoding = encodings[Int(control & 3)]
        let form = forms[Int((control >> 2) & 3)]
        let path = scratch ?? scratchPath("csv")
        guard write(body, to: path) else { return ["无法写入临时文件 \(path)"] }
        defer { if scratch == nil { unlink(path) } }
        let role = form == .roster ? "roster" : "enterprise_rd"
        var reader = CSVReader(source: SourceFile(index: 0, path: path, role: role, form: form, encoding: encoding),
                               period: 2023)
        reader.decoderChunkSize = chunks[Int((control >> 4) & 3)]
        if control & 0x40 != 0 {
            reader.limits.maxLineBytes = 64
            reader.limits.maxFieldBytes = 16
            reader.limits.maxHeaderColumns = 8
        }
        var sink = CheckingSink(settings: NormalizeSettings(period: 2023, countyCodes: ["330727"],
                                                            maxFindingsPerRecord: control & 0x80 != 0 ? 2 : 200))
        let account: LineAccount
        do {
            account = try reader.read(batchSize: 3, into: &sink)
        } catch {
            return ["CSVReader 抛出了错误，而不是隔离：\(error)"]
        }
        var problems = sink.problems
        var balanced = account
        balanced.moveToQuarantine(lines: sink.movedLines, records: sink.movedRecords)
        if !balanced.balanced {
            problems.append("行数核对不平：\(balanced)")
        }
        let isUTF16 = body.starts(with: [0xFF, 0xFE]) || body.starts(with: [0xFE, 0xFF])
        if !isUTF16 {
            // Physical lines are the line feeds, plus a last line without one.
            let expected = body.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } + (body.last.map { $0 != 0x0A } ?? false ? 1 : 0)
            if account.physicalLines != expected {
                problems.append("物理行数 \(account.physicalLines) ≠ 文件中的行数 \(expected)")
            }
        }
        problems += sink.locationProblems(lines: account.physicalLines)
        return problems
    }

    // MARK: XML

    /// The yingtong XML reader on the bytes as a file (any declared encoding), then normalization.
    public static func yingtongXML(_ data: [UInt8], scratch: String? = nil) -> [String] {
        let path = scratch ?? scratchPath("xml")
        guard write(data, to: path) else { return ["无法写入临时文件 \(path)"] }
        defer { if scratch == nil { unlink(path) } }
        var reader = YingtongXMLReader(source: SourceFile(index: 0, path: path, role: "enterprise_rd"),
                                       limits: XMLLimits(maxDepth: 16, maxTextBytes: 4096, maxElementsPerRecord: 200))
        var sink = CheckingSink(settings: NormalizeSettings(period: 2023, countyCodes: ["330727"]))
        let account: LineAccount
        do {
            account = try reader.read(batchSize: 3, into: &sink)
        } catch let e as YingtongError {
            // A document that is not this format at all (wrong root, unreadable) is refused whole, as a run
            // refuses it (exit 2): with a code and a Chinese reason, never a crash.
            return containsChinese(e.messageZh) && !e.code.isEmpty ? sink.problems : sink.problems + ["XML 拒绝没有中文说明：\(e)"]
        } catch {
            return ["XML 读取抛出了意外的错误：\(error)"]
        }
        var problems = sink.problems
        var balanced = account
        balanced.moveToQuarantine(lines: sink.movedLines, records: sink.movedRecords)
        if !balanced.balanced { problems.append("行数核对不平：\(balanced)") }
        problems += sink.locationProblems(lines: account.physicalLines)
        return problems
    }

    // MARK: SDMX

    /// The SDMX-ML reader (all three message shapes) on the bytes as a file, mapped to macro rows and normalized.
    public static func sdmx(_ data: [UInt8], scratch: String? = nil) -> [String] {
        let path = scratch ?? scratchPath("xml")
        guard write(data, to: path) else { return ["无法写入临时文件 \(path)"] }
        defer { if scratch == nil { unlink(path) } }
        var options = SDMXOptions()
        options.limits = XMLLimits(maxDepth: 16, maxTextBytes: 4096, maxElementsPerRecord: 200)
        var reader = SDMXReader(source: SourceFile(index: 0, path: path, role: "macro", form: .macro), options: options)
        var sink = CheckingSink(settings: NormalizeSettings(period: 2023, countyCodes: ["330727"]))
        let account: LineAccount
        do {
            account = try reader.read(batchSize: 3, into: &sink)
        } catch let e as YingtongError {
            // Not an SDMX data message at all: refused whole, with a code and a Chinese reason (see yingtongXML).
            return containsChinese(e.messageZh) && !e.code.isEmpty ? sink.problems : sink.problems + ["SDMX 拒绝没有中文说明：\(e)"]
        } catch let f as XMLFault {
            // Opening the document (before any observation) may fail as a whole: that is reported, not a crash.
            return f.messageZh.isEmpty ? ["SDMX 错误没有中文说明"] : sink.problems
        } catch {
            return ["SDMX 读取抛出了意外的错误：\(error)"]
        }
        var problems = sink.problems
        var balanced = account
        balanced.moveToQuarantine(lines: sink.movedLines, records: sink.movedRecords)
        if !balanced.balanced { problems.append("行数核对不平：\(balanced)") }
        problems += sink.locationProblems(lines: account.physicalLines)
        return problems
    }

    // MARK: Rules

    /// The bytes as a rule expression (lossy UTF-8): lexer and parser, then — when it parses — the printer must
    /// give text that parses to the same tree, and the whole pack path (YAML, type checker, compiler) must either
    /// accept the rule or refuse it with a located Chinese error.
    public static func ruleExpression(_ data: [UInt8]) -> [String] {
        let text = String(decoding: data, as: UTF8.self)
        var problems: [String] = []
        let syntax: Syntax
        do {
            syntax = try Parser.parse(text)
        } catch let e as RuleError {
            if !containsChinese(e.messageZh) { problems.append("解析错误没有中文说明：\(e)") }
            if e.location == nil { problems.append("解析错误没有位置：\(e)") }
            return problems
        } catch {
            return ["解析抛出了意外的错误：\(error)"]
        }
        let printed = SyntaxPrinter.print(syntax)
        do {
            let again = try Parser.parse(printed)
            let reprinted = SyntaxPrinter.print(again)
            if reprinted != printed { problems.append("打印再解析后不一致：\(printed) → \(reprinted)") }
        } catch {
            problems.append("打印结果无法再解析：\(printed)：\(error)")
        }
        // The printed form is one line, so it fits a YAML block scalar whatever the input's layout was.
        let yaml = """
            pack: fuzz
            version: "1"
            rules:
              - id: F001
                severity: warning
                level: 1
                check: |
                  \(printed)
                message_zh: 模糊测试
            """
        do {
            let pack = try RulePack.parse(yaml: yaml, file: "fuzz.yaml")
            _ = try RuleEngine(pack: pack)
        } catch let e as RuleError {
            if !containsChinese(e.messageZh) { problems.append("规则错误没有中文说明：\(e)") }
        } catch {
            problems.append("规则编译抛出了意外的错误：\(error)")
        }
        return problems
    }

    // MARK: Support

    /// A scratch file name unique to this process and call (tests run in parallel).
    public static func scratchPath(_ ext: String) -> String {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(dir)/yingtong-fuzz-\(getpid())-\(UUID().uuidString).\(ext)"
    }

    static func write(_ data: [UInt8], to path: String) -> Bool {
        FileManager.default.createFile(atPath: path, contents: Data(data))
    }

    static func containsChinese(_ s: String) -> Bool {
        s.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
    }
}

/// Normalizes what a reader hands on and checks every entry is located and explained in Chinese.
struct CheckingSink: RecordSink {
    let normalizer: Normalizer
    var sequence: Int64 = 0
    var movedLines = 0
    var movedRecords = 0
    var problems: [String] = []
    /// (first line, last line) of every record and quarantine entry, checked against the file's line count.
    var spans: [(Int32, Int32, String)] = []

    init(settings: NormalizeSettings) { normalizer = Normalizer(settings: settings) }

    mutating func accept(_ batch: RawBatch) throws {
        let n = normalizer.normalize(batch, sequenceStart: sequence)
        sequence += Int64(batch.count)
        movedLines += n.quarantinedRecordLines
        movedRecords += n.quarantinedRecords
        for e in n.quarantine { check(e) }
        for p in batch.provenance { spans.append((p.line, p.lineEnd, "记录")) }
        for v in n.violations where !FuzzEntries.containsChinese(v.messageZh) {
            problems.append("发现没有中文说明：\(v.rule)")
        }
    }

    mutating func quarantine(_ entry: QuarantineEntry) throws { check(entry) }

    mutating func check(_ e: QuarantineEntry) {
        if e.code.isEmpty { problems.append("隔离项没有代码：\(e)") }
        if !FuzzEntries.containsChinese(e.messageZh) { problems.append("隔离项没有中文说明：\(e.code) \(e.messageZh)") }
        spans.append((e.line, e.lineEnd, e.code))
    }

    func locationProblems(lines: Int) -> [String] {
        var out: [String] = []
        for (first, last, what) in spans where first < 1 || last < first || Int(last) > max(lines, 1) {
            out.append("\(what) 的位置（第 \(first)–\(last) 行）不在文件的 \(lines) 行之内")
        }
        return out
    }
}
