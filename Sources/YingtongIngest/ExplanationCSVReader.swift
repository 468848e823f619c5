import Foundation
import YingtongModel

/// Reads an explanations CSV (`uscc, period, rule, text` — or 统一社会信用代码, 报告期, 规则, 说明): the 上报说明
/// an enterprise wrote for its 核实性 queries (DOMAIN §3), sent apart from the forms. Each row becomes an
/// `Explanation`; a row without a USCC, a rule or a text is quarantined with its line.
public struct ExplanationCSVReader: RecordSource {
    public let source: SourceFile
    public let period: Int

    static let headers: [String: Set<String>] = [
        "uscc": ["uscc", "统一社会信用代码", "社会信用代码", "信用代码"],
        "period": ["period", "报告期", "年度"],
        "rule": ["rule", "规则", "规则编号", "审核规则"],
        "text": ["text", "说明", "情况说明", "上报说明", "说明内容"],
    ]

    public init(source: SourceFile, period: Int) {
        self.source = source
        self.period = period
    }

    public mutating func read(batchSize: Int, into sink: inout some RecordSink) throws -> LineAccount {
        let decoder = try StreamingDecoder(path: source.path, declared: source.encoding)
        let scanner = CSVScanner(decoder: decoder, separator: source.separator)
        var account = LineAccount()
        account.bytes = decoder.fileSize
        var columns: [String: Int]?
        func quarantine(_ rec: ScannedRecord, _ code: String, _ message: String) throws {
            account.quarantinedLines += Int(rec.lastLine - rec.firstLine + 1)
            account.quarantinedRecords += 1
            try sink.quarantine(QuarantineEntry(sourceIndex: source.index, file: source.path, line: rec.firstLine,
                                                lineEnd: rec.lastLine, column: rec.fault?.column, byteOffset: rec.byteOffset,
                                                raw: String(decoding: rec.raw, as: UTF8.self), code: code, messageZh: message))
        }
        while let rec = try scanner.next() {
            if let f = rec.fault { try quarantine(rec, f.code, f.messageZh); continue }
            let cells = (0..<rec.cellCount).map { HeaderText.halfWidth(rec.cellString($0)).trimmingCharacters(in: .whitespaces) }
            if rec.isBlank { account.layoutLines += 1; continue }
            guard let map = columns else {
                var found: [String: Int] = [:]
                for (i, c) in cells.enumerated() {
                    for (key, names) in Self.headers where names.contains(c) { found[key] = i }
                }
                if found["uscc"] != nil && found["rule"] != nil && found["text"] != nil {
                    columns = found
                    account.layoutLines += Int(rec.lastLine - rec.firstLine + 1)
                } else {
                    try quarantine(rec, "E-CSV-HEADER", "说明文件应有 统一社会信用代码、规则、说明 三列（可选 报告期），此行不是表头也无法读取")
                }
                continue
            }
            func cell(_ key: String) -> String { map[key].flatMap { $0 < cells.count ? cells[$0] : nil } ?? "" }
            let uscc = USCC.normalize(cell("uscc")), rule = cell("rule").uppercased(), text = cell("text")
            guard !uscc.isEmpty, !rule.isEmpty, !text.isEmpty else {
                try quarantine(rec, "E-EXPLANATION-INCOMPLETE", "说明缺少统一社会信用代码、规则编号或说明内容，无法对应到审核问题")
                continue
            }
            var year = period
            if !cell("period").isEmpty {
                guard let y = PeriodText.year(cell("period")) else {
                    try quarantine(rec, "E-ID-PERIOD", "报告期“\(cell("period"))”无法识别")
                    continue
                }
                year = y
            }
            try sink.explanation(Explanation(uscc: uscc, period: year, rule: rule, text: text,
                                             sourceIndex: source.index, line: rec.firstLine))
            account.records += 1
            account.recordLines += Int(rec.lastLine - rec.firstLine + 1)
        }
        account.physicalLines = Int(scanner.physicalLines)
        account.encoding = decoder.effectiveEncoding
        return account
    }
}
