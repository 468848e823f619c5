// Written by hand: the mirrored CSV packages are 10–50× slower than a byte scanner, read UTF-8 only, and
// either hold the whole file (SwiftCSV) or build a [String] per row (CSV.swift) — swift-tech-probe §2.
// This scanner works on decoded UTF-8 one physical line at a time, so a broken quote can be confined to the
// line that opened it and reading resumes on the next line.
import Foundation
import YingtongModel

/// One CSV record as scanned: its cells (unescaped) and where it came from.
public struct ScannedRecord {
    /// Cell i is `bytes[cellBounds[2i]..<cellBounds[2i+1]]`.
    public var bytes: [UInt8] = []
    public var cellBounds: [Int] = []
    /// The physical line(s) as decoded, for quarantine.
    public var raw: [UInt8] = []
    public var firstLine: Int32 = 0
    public var lastLine: Int32 = 0
    public var byteOffset: Int64 = 0
    /// Set when the record cannot be used as is.
    public var fault: (code: String, column: Int32?, byteOffset: Int64?, messageZh: String)?

    public var cellCount: Int { cellBounds.count / 2 }

    public func cell(_ i: Int) -> ArraySlice<UInt8> { bytes[cellBounds[2 * i]..<cellBounds[2 * i + 1]] }
    public func cellString(_ i: Int) -> String { String(decoding: cell(i), as: UTF8.self) }

    public var isBlank: Bool {
        for i in 0..<cellCount where !cell(i).allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return false }
        return true
    }
}

/// RFC 4180 scanner with Excel's habits: CRLF or LF, doubled quotes, newlines inside quotes, a last line with no
/// newline. A quote that never closes, or closes with text glued after it, spoils only the line that opened it.
public final class CSVScanner {
    public let decoder: StreamingDecoder
    public let separator: UInt8
    /// A quoted field may span at most this many physical lines before the opening line is declared broken.
    public let maxLinesPerRecord: Int
    /// Longest physical line kept whole, and longest quoted record across lines; a longer one is quarantined
    /// (resource limit) and never held whole in memory.
    public let maxLineBytes: Int
    /// Largest cell after unquoting; a record with a larger one is quarantined (resource limit).
    public let maxFieldBytes: Int
    /// How much of an over-long line is kept for its quarantine entry.
    static let keptPrefix = 4096

    private var buffer: [UInt8] = []
    private var pos = 0
    private var atEOF = false
    private var lineNumber: Int32 = 0
    private var nextLineOffset: Int64
    /// Lines read ahead for a multi-line record that turned out broken, replayed one by one.
    private var replay: [Line] = []
    /// Cells in the previous record: the next one very likely has as many, so its arrays are sized once.
    private var lastCellCount = 16

    public init(decoder: StreamingDecoder, separator: UInt8 = UInt8(ascii: ","), maxLinesPerRecord: Int = 200,
                maxLineBytes: Int = 8 << 20, maxFieldBytes: Int = 1 << 20) {
        self.decoder = decoder
        self.separator = separator
        self.maxLinesPerRecord = maxLinesPerRecord
        self.maxLineBytes = maxLineBytes
        self.maxFieldBytes = maxFieldBytes
        nextLineOffset = decoder.textStart
    }

    public var physicalLines: Int32 { lineNumber }

    /// One physical line as read: `bytes` is the whole line, or only its first `keptPrefix` bytes when `length`
    /// (its true length) is over the limit.
    private struct Line {
        var bytes: [UInt8]
        var line: Int32
        var offset: Int64
        var length: Int
        /// Whether the line ended with CR LF: inside a quoted field the CR is data (RFC 4180), so it is put back.
        var crlf = false
        var overLimit: Bool { bytes.count < length }
    }

    /// The next physical line (without its line ending), its number and input byte offset; nil at EOF.
    /// A line longer than `maxLineBytes` is cut to its first `keptPrefix` bytes as it streams past, so memory
    /// stays bounded by the limit, not by the line.
    private func nextLine() throws -> Line? {
        if !replay.isEmpty { return replay.removeFirst() }
        var kept: [UInt8]?       // set once the line is over the limit: its first bytes
        var dropped = 0          // bytes of the line discarded so far
        while true {
            let found: Int? = buffer.withUnsafeBufferPointer { p -> Int? in
                guard pos < p.count else { return nil }
                if let base = p.baseAddress, let hit = memchr(base + pos, 0x0A, p.count - pos) {
                    return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                }
                return nil
            }
            if let lf = found {
                var end = lf
                let crlf = end > pos && buffer[end - 1] == 0x0D
                if crlf { end -= 1 }
                let line = finish(end: end, kept: kept, dropped: dropped)
                pos = lf + 1
                lineNumber += 1
                let offset = nextLineOffset
                nextLineOffset = (decoder.nextLineFeed() ?? offset) + 1
                return Line(bytes: line.bytes, line: lineNumber, offset: offset, length: line.length, crlf: crlf)
            }
            if atEOF {
                guard pos < buffer.count || kept != nil else { return nil }
                var end = buffer.count
                if end > pos && buffer[end - 1] == 0x0D { end -= 1 }
                let line = finish(end: end, kept: kept, dropped: dropped)
                pos = buffer.count
                lineNumber += 1
                return Line(bytes: line.bytes, line: lineNumber, offset: nextLineOffset, length: line.length)
            }
            if pos > 0 {
                buffer.removeFirst(pos)
                pos = 0
            }
            if kept != nil || buffer.count > maxLineBytes {
                // Over the limit with no line feed in sight: keep the head once, drop the rest as it comes.
                if kept == nil { kept = Array(buffer.prefix(Self.keptPrefix)) }
                // A CR right before the coming LF is part of the line ending: hold back one byte.
                let drop = buffer.count - (buffer.last == 0x0D ? 1 : 0)
                skipFaults(in: buffer[..<drop])
                dropped += drop
                buffer.removeFirst(drop)
            }
            if !(try decoder.decodeNext(into: &buffer)) { atEOF = true }
        }
    }

    /// The line `buffer[pos..<end]`, or, for a line already over the limit, its kept head and true length.
    private func finish(end: Int, kept: [UInt8]?, dropped: Int) -> (bytes: [UInt8], length: Int) {
        let length = dropped + (end - pos)
        if length <= maxLineBytes { return (Array(buffer[pos..<end]), length) }
        let tail = buffer[pos..<end]
        skipFaults(in: tail)
        if let kept { return (kept, length) }
        let head = Array(tail.prefix(Self.keptPrefix))
        return (head, length)
    }

    /// Pops the decoder faults of sentinels that will never reach a record (bytes of a dropped line), so the
    /// next record's faults are not misattributed.
    private func skipFaults(in bytes: ArraySlice<UInt8>) {
        for b in bytes where b == StreamingDecoder.sentinel { _ = decoder.nextFault() }
    }

    private enum LineParse { case complete, openQuote, badQuote(column: Int) }

    /// Parses `line` (a record's text so far) into `rec`'s cells.
    private func parse(_ line: [UInt8], into rec: inout ScannedRecord) -> LineParse {
        rec.bytes.removeAll(keepingCapacity: true)
        rec.cellBounds.removeAll(keepingCapacity: true)
        rec.bytes.reserveCapacity(line.count)
        rec.cellBounds.reserveCapacity(lastCellCount * 2 + 2)
        let sep = separator
        let quote = UInt8(ascii: "\"")
        return line.withUnsafeBufferPointer { p -> LineParse in
            let n = p.count
            var i = 0
            while true {
                let cellStart = rec.bytes.count
                if i < n && p[i] == quote {
                    i += 1
                    var closed = false
                    while i < n {
                        let b = p[i]
                        if b == quote {
                            if i + 1 < n && p[i + 1] == quote { rec.bytes.append(quote); i += 2; continue }
                            closed = true; i += 1; break
                        }
                        rec.bytes.append(b); i += 1
                    }
                    if !closed { return .openQuote }
                    // Spaces after a closing quote are tolerated; anything else means the quoting is broken.
                    while i < n && p[i] == 0x20 { i += 1 }
                    if i < n && p[i] != sep { return .badQuote(column: rec.cellBounds.count / 2 + 1) }
                } else {
                    let start = i
                    while i < n && p[i] != sep { i += 1 }
                    rec.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[start..<i]))
                }
                rec.cellBounds.append(cellStart)
                rec.cellBounds.append(rec.bytes.count)
                if i >= n { return .complete }
                i += 1  // separator
                if i == n {
                    rec.cellBounds.append(rec.bytes.count)
                    rec.cellBounds.append(rec.bytes.count)
                    return .complete
                }
            }
        }
    }

    /// The next record, or nil at end of input. A record with a `fault` must be quarantined whole.
    public func next() throws -> ScannedRecord? {
        guard let first = try nextLine() else { return nil }
        var rec = ScannedRecord()
        rec.firstLine = first.line
        rec.lastLine = first.line
        rec.byteOffset = first.offset
        if first.overLimit {
            rec.raw = first.bytes.map { $0 == StreamingDecoder.sentinel ? UInt8(ascii: "?") : $0 }
            rec.fault = ("E-CSV-LINE-TOO-LONG", nil, first.offset,
                         "物理行长度 \(first.length) 字节超过上限 \(maxLineBytes) 字节，整行隔离（仅保留前 \(Self.keptPrefix) 字节）")
            return rec
        }
        var text = first.bytes
        var endsWithCRLF = first.crlf
        var pending: [Line] = []
        while true {
            switch parse(text, into: &rec) {
            case .complete:
                lastCellCount = rec.cellCount
                rec.raw = text
                markEncodingFault(&rec)
                if rec.fault == nil { markOversizedField(&rec) }
                return rec
            case .badQuote(let column):
                return brokenQuote(first: first, pending: pending, rec: &rec, column: column,
                                   why: "引号关闭后紧跟其他字符（第 \(column) 列），引号不配对")
            case .openQuote:
                guard pending.count < maxLinesPerRecord, let more = try nextLine() else {
                    return brokenQuote(first: first, pending: pending, rec: &rec, column: nil,
                                       why: pending.count >= maxLinesPerRecord
                                           ? "引号内字段跨越超过 \(maxLinesPerRecord) 行，判定为未闭合引号"
                                           : "引号未闭合直到文件结束")
                }
                pending.append(more)
                if more.overLimit || text.count + 1 + more.bytes.count > maxLineBytes {
                    // A quoted field that never closes would otherwise pull up to maxLinesPerRecord long lines in.
                    return brokenQuote(first: first, pending: pending, rec: &rec, column: nil,
                                       why: "引号内字段跨行累计超过上限 \(maxLineBytes) 字节，判定为未闭合引号")
                }
                if endsWithCRLF { text.append(0x0D) }
                text.append(0x0A)
                text.append(contentsOf: more.bytes)
                endsWithCRLF = more.crlf
                rec.lastLine = more.line
            }
        }
    }

    /// Quarantines a record with a cell larger than `maxFieldBytes`; only the record's first bytes are kept.
    private func markOversizedField(_ rec: inout ScannedRecord) {
        for i in 0..<rec.cellCount where rec.cellBounds[2 * i + 1] - rec.cellBounds[2 * i] > maxFieldBytes {
            let size = rec.cellBounds[2 * i + 1] - rec.cellBounds[2 * i]
            if rec.raw.count > Self.keptPrefix { rec.raw = Array(rec.raw.prefix(Self.keptPrefix)) }
            rec.fault = ("E-LIMIT-FIELD", Int32(i + 1), rec.byteOffset,
                         "第 \(i + 1) 列的字段长 \(size) 字节，超过单个字段上限 \(maxFieldBytes) 字节，整条记录已隔离（仅保留前 \(Self.keptPrefix) 字节）")
            rec.bytes = []
            rec.cellBounds = []
            return
        }
    }

    /// Quarantines only the opening line; the lines read ahead are scanned again as records of their own.
    private func brokenQuote(first: Line, pending: [Line],
                             rec: inout ScannedRecord, column: Int?, why: String) -> ScannedRecord {
        replay.insert(contentsOf: pending, at: 0)
        var out = ScannedRecord()
        out.firstLine = first.line
        out.lastLine = first.line
        out.byteOffset = first.offset
        out.raw = first.bytes
        out.fault = ("E-CSV-QUOTE", column.map(Int32.init), first.offset, "CSV 引号错误：\(why)；该行已隔离，后续行继续读取")
        // A sentinel on this line still owes its fault entry, or later sentinels would be misattributed.
        if first.bytes.contains(StreamingDecoder.sentinel) { markEncodingFault(&out) }
        return out
    }

    /// Turns decoder sentinels in the record into one located E-ENCODING fault (first bad byte wins; the others
    /// are consumed so later records get their own).
    private func markEncodingFault(_ rec: inout ScannedRecord) {
        guard rec.raw.contains(StreamingDecoder.sentinel) else { return }
        var line = rec.firstLine
        var lineStart = 0
        var firstFault: (DecodeFault, Int32, Int32)?
        var i = 0
        for b in rec.raw {
            if b == 0x0A { line += 1; lineStart = i + 1 }
            if b == StreamingDecoder.sentinel, let f = decoder.nextFault(), firstFault == nil {
                let column = Int32(String(decoding: rec.raw[lineStart..<i], as: UTF8.self).count + 1)
                firstFault = (f, line, column)
            }
            i += 1
        }
        guard let (f, faultLine, column) = firstFault else { return }
        let hex = f.bytes.map { String(format: "%02X", $0) }.joined(separator: " ")
        let enc = decoder.effectiveEncoding.uppercased()
        var raw = rec.raw
        for k in raw.indices where raw[k] == StreamingDecoder.sentinel { raw.replaceSubrange(k...k, with: Array("\\x".utf8) + Array(String(format: "%02X", f.bytes.first ?? 0).utf8)) ; break }
        rec.raw = raw.map { $0 == StreamingDecoder.sentinel ? UInt8(ascii: "?") : $0 }
        rec.fault = ("E-ENCODING", column, f.byteOffset,
                     "第 \(faultLine) 行第 \(column) 列（字节偏移 \(f.byteOffset)）有按 \(enc) 无法解码的字节 \(hex)；整条记录已隔离，未做任何替换")
    }
}
