import Foundation

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
}
