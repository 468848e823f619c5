// Written by hand over Glibc iconv because no mirrored package decodes GB18030 as a stream: Foundation's
// GB18030 decoding needs the whole file in memory (25 MB/s), its GBK returns nil, and the CSV packages take
// UTF-8 only (swift-tech-probe §2–3). iconv in 1 MiB chunks runs at ~200 MB/s with flat memory.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import YingtongModel

/// The text encodings a CSV may arrive in (FORMATS §2).
public enum TextEncoding: String, Sendable, Codable {
    case utf8 = "utf-8"
    case utf8BOM = "utf-8-bom"
    case gb18030
    /// Excel's "GBK": GB18030's two-byte range plus the single byte 0x80 = €.
    case cp936
    case utf16LE = "utf-16le"
    case utf16BE = "utf-16be"

    var iconvName: String? {
        switch self {
        case .utf8, .utf8BOM: nil
        case .gb18030, .cp936: "GB18030"
        case .utf16LE: "UTF-16LE"
        case .utf16BE: "UTF-16BE"
        }
    }
}

/// A byte of the input that is not valid in the chosen encoding. The decoder writes the sentinel 0xFF (never
/// valid UTF-8) in its place so the CSV scanner knows which line it spoils, and queues one of these.
public struct DecodeFault: Sendable, Hashable {
    /// Offset of the offending byte in the original file.
    public let byteOffset: Int64
    /// The offending bytes (up to 4), for the message.
    public let bytes: [UInt8]
}

/// Streams a file as UTF-8: detects the encoding (BOM → strict UTF-8 over the whole file → GB18030), converts
/// chunk by chunk, marks every invalid byte with the 0xFF sentinel and reports it, and tells the input offset of
/// every line feed so records keep their original byte offset.
public final class StreamingDecoder {
    public static let sentinel: UInt8 = 0xFF
    public let encoding: TextEncoding
    public private(set) var fileSize: Int64 = 0
    /// Set when a lone 0x80 was decoded as € (the file is really CP936).
    public private(set) var sawCP936Euro = false

    private let fd: Int32
    private let path: String
    private var inputOffset: Int64 = 0          // offset of the next byte to read from the file
    private var carry: [UInt8] = []             // undecoded tail (incomplete sequence) of the previous chunk
    private var carryOffset: Int64 = 0          // file offset of carry[0]
    private var eof = false
    private var cd: iconv_t?
    private let chunkSize: Int
    /// Faults in output order; the scanner pops them as it meets sentinels.
    public var faults: [DecodeFault] = []
    public var faultHead = 0
    /// Input offsets of line feeds in output order.
    public var lineFeeds: [Int64] = []
    public var lineFeedHead = 0
    /// Offset of the file's first text byte (after a BOM).
    public private(set) var textStart: Int64 = 0
    /// Whether the UTF-8 pre-scan proved the whole file valid, so chunks pass through untouched.
    private var trustedUTF8 = false

    /// - Parameter declared: `auto`, `utf-8`, `gb18030`, `gbk`, `cp936`, `utf-16le`, `utf-16be`.
    public init(path: String, declared: String = "auto", chunkSize: Int = 1 << 20) throws {
        self.path = path
        self.chunkSize = chunkSize
        fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw YingtongError("E-INPUT-OPEN", "无法打开输入文件 \(path)：\(String(cString: strerror(errno)))")
        }
        var st = stat()
        if fstat(fd, &st) == 0 { fileSize = Int64(st.st_size) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw YingtongError("E-INPUT-NOT-FILE", "输入 \(path) 是文件夹而不是文件")
        }
        var head = [UInt8](repeating: 0, count: 4)
        let n = pread(fd, &head, 4, 0)
        let h = Array(head.prefix(max(0, n)))
        var enc: TextEncoding
        if h.starts(with: [0xEF, 0xBB, 0xBF]) {
            enc = .utf8BOM; textStart = 3
            trustedUTF8 = Self.isValidUTF8(fd: fd, size: fileSize)
        } else if h.starts(with: [0xFF, 0xFE]) {
            enc = .utf16LE; textStart = 2
        } else if h.starts(with: [0xFE, 0xFF]) {
            enc = .utf16BE; textStart = 2
        } else {
            switch declared.lowercased() {
            case "auto", "":
                enc = Self.isValidUTF8(fd: fd, size: fileSize) ? .utf8 : .gb18030
                trustedUTF8 = enc == .utf8
            case "utf-8", "utf8":
                enc = .utf8
                trustedUTF8 = Self.isValidUTF8(fd: fd, size: fileSize)
            case "gb18030", "gbk", "gb2312": enc = .gb18030
            case "cp936": enc = .cp936
            case "utf-16le": enc = .utf16LE
            case "utf-16be": enc = .utf16BE
            default:
                close(fd)
                throw YingtongError("E-INPUT-ENCODING", "不支持的编码声明 \(declared)（可用：auto、utf-8、gb18030、cp936、utf-16le）")
            }
        }
        encoding = enc
        inputOffset = textStart
        lseek(fd, off_t(textStart), SEEK_SET)
        carryOffset = textStart
        if let name = enc.iconvName {
            let c = iconv_open("UTF-8", name)
            if c == iconv_t(bitPattern: -1) {
                close(fd)
                throw YingtongError("E-INPUT-ENCODING", "系统 iconv 不支持 \(name) 编码")
            }
            cd = c
        }
    }

    deinit {
        if let cd { iconv_close(cd) }
        close(fd)
    }

    /// The encoding as the run manifest names it (cp936 when a lone 0x80 was met in a GB18030 file).
    public var effectiveEncoding: String {
        if encoding == .gb18030 && sawCP936Euro { return TextEncoding.cp936.rawValue }
        return encoding.rawValue
    }

    /// Strict UTF-8 validation of the whole file, stopping at the first fault (a GB18030 file fails within its
    /// first Chinese character, so the pre-scan costs a full read only for files that are UTF-8).
    static func isValidUTF8(fd: Int32, size: Int64) -> Bool {
        // Sized to the file when it is small: a bureau reads thousands of one-enterprise files, and zeroing a
        // 1 MiB buffer for each was most of the time spent on them.
        let capacity = Int(min(Int64(1 << 20), max(size, 0) + 8))
        var buf = [UInt8](repeating: 0, count: capacity)
        var offset: Int64 = 0
        var pending = 0  // bytes of an incomplete sequence carried to the next chunk
        while true {
            let n = buf.withUnsafeMutableBytes { p in pread(fd, p.baseAddress! + pending, capacity - pending, off_t(offset)) }
            if n < 0 { return false }
            if n == 0 { return pending == 0 }
            offset += Int64(n)
            let total = pending + n
            let (ok, tail) = buf.withUnsafeBufferPointer { validateUTF8Prefix($0, count: total, final: false) }
            if !ok { return false }
            if tail > 0 {
                for i in 0..<tail { buf[i] = buf[total - tail + i] }
            }
            pending = tail
        }
    }

    /// Validates `p[0..<count]`; returns (valid so far, length of an incomplete trailing sequence).
    static func validateUTF8Prefix(_ p: UnsafeBufferPointer<UInt8>, count: Int, final: Bool) -> (Bool, Int) {
        var i = 0
        while i < count {
            let b = p[i]
            if b < 0x80 { i += 1; continue }
            let len = utf8SequenceLength(p, i, count)
            if len == 0 { return (false, 0) }
            if len < 0 { return final ? (false, 0) : (true, count - i) }
            i += len
        }
        return (true, 0)
    }

    /// Length of the valid UTF-8 sequence at `i`, 0 if invalid, −1 if incomplete at the end.
    @inline(__always)
    static func utf8SequenceLength(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ count: Int) -> Int {
        let b = p[i]
        var need: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: return 0
        }
        for k in 1...need {
            if i + k >= count { return -1 }
            let c = p[i + k]
            if k == 1 { if c < lo || c > hi { return 0 } } else if c < 0x80 || c > 0xBF { return 0 }
        }
        return need + 1
    }

    /// Appends the next decoded chunk to `out`; false at end of file.
    public func decodeNext(into out: inout [UInt8]) throws -> Bool {
        if eof && carry.isEmpty { return false }
        let base = carry.isEmpty ? inputOffset : carryOffset
        let want = chunkSize
        var raw: [UInt8]
        if !eof {
            let old = carry.count
            var readError: Int32 = 0
            var got = 0
            raw = try [UInt8](unsafeUninitializedCapacity: old + want) { buf, initialized in
                if old > 0 { _ = UnsafeMutableBufferPointer(rebasing: buf[0..<old]).initialize(from: carry) }
                let n = Glibc.read(fd, buf.baseAddress! + old, want)
                if n < 0 { readError = errno; initialized = old; return }
                got = n
                initialized = old + n
                if readError != 0 { throw YingtongError("E-INPUT-READ", "") }
            }
            if readError != 0 {
                throw YingtongError("E-INPUT-READ", "读取 \(path) 失败：\(String(cString: strerror(readError)))")
            }
            inputOffset += Int64(got)
            if got == 0 { eof = true }
        } else {
            raw = carry
        }
        carry = []
        if raw.isEmpty { return !eof || false }
        recordLineFeeds(raw, base: base)
        switch encoding {
        case .utf8, .utf8BOM:
            if trustedUTF8 {
                out.append(contentsOf: raw)
            } else {
                passUTF8(raw, base: base, into: &out)
            }
        default:
            try convert(raw, base: base, into: &out)
        }
        return true
    }

    private func recordLineFeeds(_ raw: [UInt8], base: Int64) {
        // Line feeds are found in the input bytes: 0x0A is never a trail byte in GB18030 or UTF-8, and in
        // UTF-16 it is the code unit 0x000A. Bytes carried over are not yet scanned (they follow `scannedUpTo`).
        raw.withUnsafeBufferPointer { p in
            switch encoding {
            case .utf16LE, .utf16BE:
                var i = Int(scanFrom(base))
                if (base + Int64(i) - textStart) % 2 != 0 { i += 1 }
                while i + 1 < p.count {
                    let isLF = encoding == .utf16LE ? (p[i] == 0x0A && p[i + 1] == 0) : (p[i] == 0 && p[i + 1] == 0x0A)
                    if isLF { lineFeeds.append(base + Int64(i)) }
                    i += 2
                }
                scanned = base + Int64(i)
            default:
                var i = min(Int(scanFrom(base)), p.count)
                while i < p.count {
                    if p[i] == 0x0A { lineFeeds.append(base + Int64(i)) }
                    i += 1
                }
                scanned = base + Int64(p.count)
            }
        }
    }

    private var scanned: Int64 = 0
    private func scanFrom(_ base: Int64) -> Int64 { max(0, scanned - base) }

    private func passUTF8(_ raw: [UInt8], base: Int64, into out: inout [UInt8]) {
        raw.withUnsafeBufferPointer { p in
            var i = 0
            let count = p.count
            while i < count {
                let b = p[i]
                if b < 0x80 { out.append(b); i += 1; continue }
                let len = Self.utf8SequenceLength(p, i, count)
                if len > 0 {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: p[i..<(i + len)]))
                    i += len
                } else if len < 0 && !eof {
                    carry = Array(p[i...]); carryOffset = base + Int64(i)
                    // Undo the scan of the carried bytes' line feeds: they contain none (an incomplete
                    // multibyte sequence has no 0x0A), so nothing to undo.
                    return
                } else {
                    out.append(Self.sentinel)
                    faults.append(DecodeFault(byteOffset: base + Int64(i), bytes: [b]))
                    i += 1
                }
            }
        }
    }

    private func convert(_ raw: [UInt8], base: Int64, into out: inout [UInt8]) throws {
        guard let cd else { return }
        var input = raw
        var inPos = 0
        var buffer = [UInt8](repeating: 0, count: max(4096, input.count * 2 + 16))
        while inPos < input.count {
            var inLeft = input.count - inPos
            var outLeft = buffer.count
            let (rc, err, consumed, produced): (Int, Int32, Int, Int) = input.withUnsafeMutableBufferPointer { ip in
                buffer.withUnsafeMutableBufferPointer { op in
                    var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(ip.baseAddress! + inPos)
                        .assumingMemoryBound(to: CChar.self)
                    var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(op.baseAddress!)
                        .assumingMemoryBound(to: CChar.self)
                    let before = inLeft
                    let r = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                    let e = r == -1 ? errno : 0
                    return (r, e, before - inLeft, op.count - outLeft)
                }
            }
            out.append(contentsOf: buffer[0..<produced])
            inPos += consumed
            if rc != -1 { break }
            switch err {
            case E2BIG:
                continue
            case EINVAL:
                // An incomplete sequence at the end of the chunk: carry it into the next read.
                if eof {
                    let bad = Array(input[inPos...])
                    out.append(Self.sentinel)
                    faults.append(DecodeFault(byteOffset: base + Int64(inPos), bytes: Array(bad.prefix(4))))
                    inPos = input.count
                } else {
                    carry = Array(input[inPos...]); carryOffset = base + Int64(inPos)
                    inPos = input.count
                }
            case EILSEQ:
                let b = input[inPos]
                if b == 0x80 && (encoding == .gb18030 || encoding == .cp936) {
                    // Excel's "GBK" is CP936, whose single byte 0x80 is €; GB18030 rejects it (FORMATS §2).
                    out.append(contentsOf: [0xE2, 0x82, 0xAC])
                    sawCP936Euro = true
                } else {
                    out.append(Self.sentinel)
                    faults.append(DecodeFault(byteOffset: base + Int64(inPos),
                                              bytes: Array(input[inPos..<min(input.count, inPos + 2)])))
                }
                inPos += 1
                // iconv may keep shift state after an error; reset it.
                iconv(cd, nil, nil, nil, nil)
            default:
                throw YingtongError("E-INPUT-ENCODING", "编码转换失败（errno \(err)）：\(path)")
            }
        }
    }

    /// Pops the next fault (in output order).
    public func nextFault() -> DecodeFault? {
        guard faultHead < faults.count else { return nil }
        defer {
            faultHead += 1
            if faultHead > 4096 { faults.removeFirst(faultHead); faultHead = 0 }
        }
        return faults[faultHead]
    }

    /// Pops the input offset of the next line feed (in output order).
    public func nextLineFeed() -> Int64? {
        guard lineFeedHead < lineFeeds.count else { return nil }
        defer {
            lineFeedHead += 1
            if lineFeedHead > 65536 { lineFeeds.removeFirst(lineFeedHead); lineFeedHead = 0 }
        }
        return lineFeeds[lineFeedHead]
    }
}
