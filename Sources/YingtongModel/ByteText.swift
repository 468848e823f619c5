import Foundation

/// Byte-level fast paths for the per-cell hot loop: most cells are short ASCII, and going through Foundation
/// (`trimmingCharacters`, `components`) for each of 50 million cells costs more than everything else together.
public enum ByteText {
    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }

    /// The cell without surrounding ASCII spaces; full-width spaces are left to the slow path.
    @inline(__always)
    public static func trimmed(_ p: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var s = 0, e = p.count
        while s < e, isSpace(p[s]) { s += 1 }
        while e > s, isSpace(p[e - 1]) { e -= 1 }
        return UnsafeBufferPointer(rebasing: p[s..<e])
    }

    @inline(__always)
    public static func isASCII(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        for b in p where b >= 0x80 { return false }
        return true
    }

    /// Whether every byte is an ASCII digit.
    @inline(__always)
    public static func isDigits(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        if p.isEmpty { return false }
        for b in p where b < 0x30 || b > 0x39 { return false }
        return true
    }

    public static func string(_ p: UnsafeBufferPointer<UInt8>) -> String { String(decoding: p, as: UTF8.self) }

    /// Calls `body` with a string's UTF-8: in place when the string is stored contiguously (every native string),
    /// else from a bridged copy. `String.withUTF8` needs a `var`, and that copy cost a retain and a release per
    /// call in the rule stage's per-value loops.
    @inlinable
    public static func withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let r = try s.utf8.withContiguousStorageIfAvailable(body) { return r }
        var bridged = s
        return try bridged.withUTF8(body)
    }

    /// Trimmed text of a cell: ASCII trimming on bytes, Unicode trimming only when the cell has non-ASCII edges.
    public static func trimmedString(_ p: UnsafeBufferPointer<UInt8>) -> String {
        let t = trimmed(p)
        if t.isEmpty { return "" }
        if !unicodeSpaceAtStart(t) && !unicodeSpaceAtEnd(t) { return string(t) }
        return string(t).trimmingCharacters(in: unicodeSpaces)
    }

    static let unicodeSpaces = CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "\u{3000}\u{feff}\u{200b}"))

    /// U+00A0, U+2000–U+200F, U+3000, U+FEFF at the edges: the only non-ASCII spaces Excel exports carry. Exact
    /// byte patterns, because most Chinese text starts or ends with non-ASCII bytes that are not spaces.
    @inline(__always)
    static func isUnicodeSpace(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8?) -> Bool {
        if b0 == 0xC2 { return b1 == 0xA0 && b2 == nil }
        guard let b2 else { return false }
        return (b0 == 0xE3 && b1 == 0x80 && b2 == 0x80) || (b0 == 0xEF && b1 == 0xBB && b2 == 0xBF)
            || (b0 == 0xE2 && b1 == 0x80 && b2 <= 0x8F)
    }

    @inline(__always)
    static func unicodeSpaceAtStart(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        let b = t[0]
        if b < 0x80 || t.count < 2 { return false }
        if b == 0xC2 { return t[1] == 0xA0 }
        return t.count >= 3 && isUnicodeSpace(b, t[1], t[2])
    }

    @inline(__always)
    static func unicodeSpaceAtEnd(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = t.count
        if t[n - 1] < 0x80 || n < 2 { return false }
        if t[n - 2] == 0xC2 && t[n - 1] == 0xA0 { return true }
        return n >= 3 && isUnicodeSpace(t[n - 3], t[n - 2], t[n - 1])
    }
}

extension PeriodText {
    /// `2023` (fast path) or any form `year(_:)` accepts.
    public static func year(bytes p: UnsafeBufferPointer<UInt8>) -> Int? {
        let t = ByteText.trimmed(p)
        if t.count == 4, ByteText.isDigits(t) {
            let y = Int(t[0] - 0x30) * 1000 + Int(t[1] - 0x30) * 100 + Int(t[2] - 0x30) * 10 + Int(t[3] - 0x30)
            return (1990...2100).contains(y) ? y : nil
        }
        return year(ByteText.string(t))
    }
}
