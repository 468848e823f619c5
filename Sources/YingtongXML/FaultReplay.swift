import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// libxml2's reader parses 512-byte chunks ahead of the node it hands out, and when a chunk fails it drops every
/// node that chunk produced: the last complete records before a fault would be lost. Re-reading the file's
/// bytes up to the faulty line, padded with spaces past one chunk, makes the end-of-data error come in a later
/// chunk, so every node before it is handed out. Readers skip the records they already had.
enum FaultReplay {
    /// A temporary copy of the file's bytes before `line`, cut after the last `>` and padded with spaces past
    /// libxml2's 512-byte parse chunk; nil when there is nothing before that line. Streams (memory stays flat);
    /// UTF-16 is handled by 16-bit unit.
    static func prefix(of path: String, beforeLine line: Int) -> String? {
        guard line > 1, let input = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? input.close() }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-replay-\(UUID().uuidString).xml")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil),
              let out = try? FileHandle(forWritingTo: tmp) else { return nil }
        defer { try? out.close() }
        var unit = 1
        var bigEndian = false
        var first = true
        var carry: [UInt8] = []
        var pending: [UInt8] = []
        var current = 1
        var wrote = false
        reading: while let chunk = try? input.read(upToCount: 1 << 20), !chunk.isEmpty {
            let b = carry + [UInt8](chunk)
            if first {
                first = false
                if b.count >= 2 {
                    if (b[0] == 0xFF && b[1] == 0xFE) || (b[0] != 0 && b[1] == 0) { unit = 2 }
                    if (b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0 && b[1] != 0) { unit = 2; bigEndian = true }
                }
            }
            let usable = b.count - b.count % unit
            carry = Array(b[usable...])
            var segment = 0
            var i = 0
            while i < usable {
                let v = unit == 1 ? UInt16(b[i])
                    : bigEndian ? UInt16(b[i]) << 8 | UInt16(b[i + 1]) : UInt16(b[i + 1]) << 8 | UInt16(b[i])
                if v == 0x3E {
                    out.write(Data(pending))
                    out.write(Data(b[segment..<(i + unit)]))
                    pending.removeAll(keepingCapacity: true)
                    segment = i + unit
                    wrote = true
                } else if v == 0x0A {
                    current += 1
                    if current == line { break reading }
                }
                i += unit
            }
            pending += b[segment..<usable]
        }
        guard current == line, wrote else {
            try? FileManager.default.removeItem(at: tmp)
            return nil
        }
        let space: [UInt8] = unit == 1 ? [0x20] : bigEndian ? [0x00, 0x20] : [0x20, 0x00]
        out.write(Data(Array(repeating: space, count: 1100).flatMap { $0 }))
        return tmp.path
    }

    /// The original text of the file from `line` on, at most `maxBytes` bytes of it, as UTF-8: what a quarantined
    /// block shows people. Bytes that do not convert end the text (the block is broken by definition). nil for
    /// UTF-16 files and when the line does not exist.
    static func text(of path: String, fromLine line: Int, encoding: String, maxBytes: Int) -> String? {
        guard !encoding.uppercased().hasPrefix("UTF-16"), let input = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? input.close() }
        var current = 1
        var out: [UInt8] = []
        var truncated = false
        reading: while let chunk = try? input.read(upToCount: 1 << 20), !chunk.isEmpty {
            for byte in chunk {
                if current >= line {
                    if out.count >= maxBytes { truncated = true; break reading }
                    out.append(byte)
                } else if byte == 0x0A {
                    current += 1
                }
            }
        }
        guard current >= line else { return nil }
        var text: String
        let enc = encoding.uppercased()
        if enc == "UTF-8" || enc.isEmpty {
            text = String(decoding: out, as: UTF8.self)
        } else {
            guard let cd = Optional(iconv_open("UTF-8", enc)), Int(bitPattern: cd) != -1 else { return nil }
            defer { iconv_close(cd) }
            var result = [UInt8](repeating: 0, count: out.count * 4 + 16)
            let produced: Int = out.withUnsafeMutableBytes { inRaw in
                result.withUnsafeMutableBytes { outRaw in
                    var inPtr = inRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                    var inLeft = inRaw.count
                    var outPtr = outRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                    var outLeft = outRaw.count
                    _ = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                    return outRaw.count - outLeft
                }
            }
            text = String(decoding: result[0..<produced], as: UTF8.self)
        }
        if truncated { text += "\n…（原文过长，此处只保留前 \(maxBytes / 1024) KiB）" }
        return text
    }
}
