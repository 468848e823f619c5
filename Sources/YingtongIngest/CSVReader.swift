import Foundation
import YingtongModel

/// Reads one CSV input (FORMATS §2) into `RawBatch`es: encoding, title rows, header, units and 代码 rows,
/// footers, broken lines — every physical line ends in a record, in quarantine, or as layout.
///
/// ```swift
/// var reader = CSVReader(source: SourceFile(index: 0, path: "107-2.csv", role: "enterprise_rd"))
/// let account = try reader.read(batchSize: 4096, into: &sink)
/// ```
public struct CSVReader: RecordSource {
    public let source: SourceFile
    public let dictionary: FieldDictionary
    /// The report year, for choosing the form layout when headers are row numbers.
    public let period: Int?
    /// A batch is handed on when it holds this many bytes, whatever its record count.
    public var batchByteBudget = 8 << 20
    /// Resource limits (field, line, header width); beyond them lines are quarantined, never held whole.
    public var limits = InputLimits()
    /// Bytes the decoder reads at a time (small values exercise chunk boundaries in tests and fuzzing).
    public var decoderChunkSize = 1 << 20
    public private(set) var layout: HeaderLayout?

    public init(source: SourceFile, dictionary: FieldDictionary = .standard, period: Int? = nil) {
        self.source = source
        self.dictionary = dictionary
        self.period = period
    }

    public mutating func read(batchSize: Int, into sink: inout some RecordSink) throws -> LineAccount {
        let decoder = try StreamingDecoder(path: source.path, declared: source.encoding, chunkSize: decoderChunkSize)
        let scanner = CSVScanner(decoder: decoder, separator: source.separator, maxLineBytes: limits.maxLineBytes,
                                 maxFieldBytes: limits.maxFieldBytes)
        let recognizer = HeaderRecognizer(dictionary: dictionary)
        var account = LineAccount()
        account.bytes = decoder.fileSize

        func quarantine(_ rec: ScannedRecord, code: String, message: String, column: Int32? = nil,
                        byteOffset: Int64? = nil) throws {
            account.quarantinedLines += Int(rec.lastLine - rec.firstLine + 1)
            account.quarantinedRecords += 1
            try sink.quarantine(QuarantineEntry(
                sourceIndex: source.index, file: source.path, line: rec.firstLine, lineEnd: rec.lastLine,
                column: column, byteOffset: byteOffset ?? rec.byteOffset, raw: String(decoding: rec.raw, as: UTF8.self),
                code: code, messageZh: message))
        }
        func quarantineFault(_ rec: ScannedRecord) throws {
            guard let f = rec.fault else { return }
            try quarantine(rec, code: f.code, message: f.messageZh, column: f.column, byteOffset: f.byteOffset)
        }
        func layoutLines(_ rec: ScannedRecord) { account.layoutLines += Int(rec.lastLine - rec.firstLine + 1) }
        func strings(_ rec: ScannedRecord) -> [String] { (0..<rec.cellCount).map(rec.cellString) }

        // ── find the header ─────────────────────────────────────────────────────────────────────────
        var above: [ScannedRecord] = []   // title rows until the header proves they are titles
        var header: ScannedRecord?
        var examined = 0
        while header == nil, examined < HeaderRecognizer.searchDepth, let rec = try scanner.next() {
            examined += 1
            if rec.fault != nil { try quarantineFault(rec); continue }
            if rec.cellCount > limits.maxHeaderColumns {
                // Too wide to be examined as a header (resource limit): nothing after it can be bound.
                let why = "第 \(rec.firstLine) 行有 \(rec.cellCount) 列，超过表头宽度上限 \(limits.maxHeaderColumns) 列，无法作为表头识别，整个文件已隔离"
                for r in above { if r.isBlank { layoutLines(r) } else { try quarantine(r, code: "E-LIMIT-HEADER-WIDE", message: why) } }
                var wide = rec
                if wide.raw.count > 4096 { wide.raw = Array(wide.raw.prefix(4096)) }
                try quarantine(wide, code: "E-LIMIT-HEADER-WIDE", message: why)
                while let r = try scanner.next() {
                    if r.fault != nil { try quarantineFault(r) } else if r.isBlank { layoutLines(r) } else {
                        var cut = r
                        if cut.raw.count > 4096 { cut.raw = Array(cut.raw.prefix(4096)) }
                        try quarantine(cut, code: "E-LIMIT-HEADER-WIDE", message: why)
                    }
                }
                account.physicalLines = Int(scanner.physicalLines)
                account.encoding = decoder.effectiveEncoding
                return account
            }
            if recognizer.isHeader(strings(rec)) { header = rec } else { above.append(rec) }
        }
        guard let header else {
            // No header: nothing in the file can be bound, so every line is kept in quarantine.
            let why = "前 \(HeaderRecognizer.searchDepth) 行中找不到可识别的表头（字段代码、中文名称或行号），整个文件已隔离"
            for rec in above where !rec.isBlank { try quarantine(rec, code: "E-CSV-HEADER", message: why) }
            for rec in above where rec.isBlank { layoutLines(rec) }
            while let rec = try scanner.next() {
                if rec.fault != nil { try quarantineFault(rec) } else if rec.isBlank { layoutLines(rec) } else {
                    try quarantine(rec, code: "E-CSV-HEADER", message: why)
                }
            }
            account.physicalLines = Int(scanner.physicalLines)
            account.encoding = decoder.effectiveEncoding
            return account
        }
        for rec in above { layoutLines(rec) }
        layoutLines(header)

        // Units and 代码 rows sit right under the header; anything else is already data.
        var lookahead: [ScannedRecord] = []
        var unitsRow: [String]?
        var codeRow: [String]?
        while lookahead.isEmpty, let rec = try scanner.next() {
            if rec.fault != nil { try quarantineFault(rec); continue }
            let cells = strings(rec)
            if unitsRow == nil && recognizer.isUnitsRow(cells) { unitsRow = cells; layoutLines(rec); continue }
            if codeRow == nil && recognizer.isCodeRow(cells) { codeRow = cells; layoutLines(rec); continue }
            lookahead.append(rec)
        }
        let headerCells = strings(header)
        let bound = recognizer.bind(header: headerCells, unitsRow: unitsRow, codeRow: codeRow, form: source.form,
                                    period: period, headerLine: header.firstLine)
        let layout: HeaderLayout
        switch bound {
        case .invalid(let code, let message):
            // The header itself is moved from layout to quarantine with the rest of the file.
            account.layoutLines -= Int(header.lastLine - header.firstLine + 1)
            try quarantine(header, code: code, message: message)
            for rec in lookahead { try quarantine(rec, code: code, message: message) }
            while let rec = try scanner.next() {
                if rec.fault != nil { try quarantineFault(rec) } else { try quarantine(rec, code: code, message: message) }
            }
            account.physicalLines = Int(scanner.physicalLines)
            account.encoding = decoder.effectiveEncoding
            return account
        case .layout(let l):
            layout = l
        }
        self.layout = layout
        if !layout.unknownColumns.isEmpty {
            sink.notice("\(source.path)：未识别的列已保留在来源记录中，不参与计算：\(layout.unknownColumns.joined(separator: "、"))")
        }
        if layout.bindings.isEmpty {
            sink.notice("\(source.path)：表头未绑定任何字段")
        }

        // ── data ────────────────────────────────────────────────────────────────────────────────────
        let headerWidth = headerCells.count
        let columns = layout.bindings.map(\.sourceColumn)
        var batch = RawBatch(source: source, layout: layout)
        var queue = lookahead
        while true {
            let rec: ScannedRecord
            if !queue.isEmpty { rec = queue.removeFirst() } else if let r = try scanner.next() { rec = r } else { break }
            if rec.fault != nil { try quarantineFault(rec); continue }
            if rec.isBlank { layoutLines(rec); continue }
            let cells = rec.cellCount
            if cells <= 3 || cells < headerWidth / 2 {
                // Short rows: a footer or a repeated title/header (paged exports). Data rows are never this short.
                let text = strings(rec)
                if recognizer.isFooter(text) || recognizer.isHeader(text) || text == headerCells {
                    layoutLines(rec); continue
                }
            } else if let lead = rec.cell(0).first, lead >= 0x80, recognizer.isFooter([rec.cellString(0)]) {
                // Data rows start with a code or a number; only a cell starting with Chinese can be a footer.
                layoutLines(rec); continue
            } else if rec.cellString(0) == headerCells.first, strings(rec) == headerCells {
                layoutLines(rec); continue
            }
            if cells > headerWidth {
                var extra = false
                for i in headerWidth..<cells where !rec.cell(i).allSatisfy({ $0 == 0x20 }) { extra = true; break }
                if extra {
                    try quarantine(rec, code: "E-CSV-RAGGED",
                                   message: "该行有 \(cells) 列，多于表头的 \(headerWidth) 列且多出的列非空（可能是名称中含未加引号的逗号），数值可能错位，整行已隔离")
                    continue
                }
            }
            for c in columns {
                if c < cells { batch.appendCell(rec.cell(c)) } else { batch.appendAbsentCell() }
            }
            batch.endRecord(provenance: Provenance(sourceIndex: source.index, line: rec.firstLine,
                                                   lineEnd: rec.lastLine, byteOffset: rec.byteOffset),
                            raw: rec.raw)
            account.recordLines += Int(rec.lastLine - rec.firstLine + 1)
            account.records += 1
            if batch.count >= batchSize || batch.byteSize >= batchByteBudget {
                try sink.accept(batch)
                batch = RawBatch(source: source, layout: layout)
            }
        }
        if batch.count > 0 { try sink.accept(batch) }
        account.physicalLines = Int(scanner.physicalLines)
        account.encoding = decoder.effectiveEncoding
        return account
    }
}
