import Foundation

/// Physical lines and bytes of a file, counted on the raw bytes so that a document the parser gave up on
/// still has its true line count (LineAccount must add up even for a truncated file).
///
/// In UTF-8, GB18030 and GBK the byte 0x0A is only ever a line feed (no trail byte takes that value); in
/// UTF-16 a line feed is the 16-bit unit 0x000A, found by its BOM or by the `<` of the XML declaration.
struct LineCount {
    var lines = 0
    var bytes: Int64 = 0

    init(path: String) {
        guard let fh = FileHandle(forReadingAtPath: path) else { return }
        defer { try? fh.close() }
        var unitSize = 1
        var bigEndian = false
        var first = true
        var newlines = 0
        var lastUnitWasNewline = true
        var carry: UInt8?
        var crPending = false   // the previous chunk ended with CR: a line end unless this chunk starts with LF
        while let chunk = try? fh.read(upToCount: 1 << 20), !chunk.isEmpty {
            bytes += Int64(chunk.count)
            chunk.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let b = raw.bindMemory(to: UInt8.self)
                var i = 0
                if first {
                    first = false
                    if b.count >= 2 {
                        if (b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0x3C && b[1] == 0x00) { unitSize = 2 }
                        if (b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0x00 && b[1] == 0x3C) { unitSize = 2; bigEndian = true }
                    }
                }
                if unitSize == 1 {
                    // memchr is vectorized; a byte loop here cost as much as a tenth of the parse.
                    var p = UnsafeRawPointer(b.baseAddress!)
                    var left = b.count
                    while left > 0, let hit = memchr(p, 0x0A, left) {
                        newlines += 1
                        let next = UnsafeRawPointer(hit) + 1
                        left -= next - p
                        p = next
                    }
                    // A lone CR ends a line too (XML §2.11; libxml2 numbers lines after it), so a file with
                    // old Mac line ends is not counted as one line holding every record.
                    if crPending && b[0] != 0x0A { newlines += 1 }
                    crPending = false
                    var q = UnsafeRawPointer(b.baseAddress!)
                    var rest = b.count
                    while rest > 0, let hit = memchr(q, 0x0D, rest) {
                        let k = UnsafeRawPointer(hit) - UnsafeRawPointer(b.baseAddress!)
                        if k + 1 < b.count { if b[k + 1] != 0x0A { newlines += 1 } } else { crPending = true }
                        let next = UnsafeRawPointer(hit) + 1
                        rest -= next - q
                        q = next
                    }
                    if let last = b.last { lastUnitWasNewline = last == 0x0A || last == 0x0D }
                    return
                }
                if let c = carry {
                    let unit = bigEndian ? (UInt16(c) << 8 | UInt16(b[0])) : (UInt16(b[0]) << 8 | UInt16(c))
                    if unit == 0x0A { newlines += 1 }
                    lastUnitWasNewline = unit == 0x0A
                    carry = nil
                    i = 1
                }
                while i + 1 < b.count {
                    let unit = bigEndian ? (UInt16(b[i]) << 8 | UInt16(b[i + 1])) : (UInt16(b[i + 1]) << 8 | UInt16(b[i]))
                    if unit == 0x0A { newlines += 1 }
                    lastUnitWasNewline = unit == 0x0A
                    i += 2
                }
                if i < b.count { carry = b[i] }
            }
        }
        if crPending { newlines += 1 }
        lines = newlines + (bytes > 0 && !lastUnitWasNewline ? 1 : 0)
    }
}
