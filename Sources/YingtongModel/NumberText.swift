import Foundation

/// What a cell's text turned out to be, before any unit is applied.
public enum ParsedNumber: Sendable, Equatable {
    case value(Milli)
    /// A placeholder (`XX`, `—`, `/`, `无`, empty…): missing, which is not zero.
    case missing
    /// Not a number; the reason is a stable code.
    case invalid(String)
}

/// Number parsing from the text people type into Excel: thousands separators, full-width digits, `%`,
/// scientific notation, placeholders. Exact: digits are accumulated as integers, never through `Double`.
///
/// Written by hand because the value must be exact to the milli and the hot path runs on raw UTF-8 bytes
/// (one call per cell of a 500 MB file); Foundation's formatters are locale-bound, slow and go through Double.
public enum NumberText {
    /// Texts that mean "no value" (FORMATS §2).
    public static let placeholders: Set<String> = ["", "X", "XX", "XXX", "x", "xx", "—", "——", "-", "--", "–", "/", "无", "不详", "空", "N/A", "NA", "#N/A", "null", "NULL"]
    private static let longestPlaceholder = placeholders.map(\.utf8.count).max() ?? 0

    /// Whether `text` is one of the placeholders. Names and other long texts are ruled out by their length first:
    /// hashing a Chinese string for the set lookup normalizes it (NFC), which was 7% of the reading thread.
    @inline(__always)
    public static func isPlaceholder(_ text: String) -> Bool {
        text.utf8.count <= longestPlaceholder && placeholders.contains(text)
    }

    public static func parse(_ text: String) -> Milli? {
        if case .value(let m) = classify(text) { return m }
        return nil
    }

    public static func classify(_ text: String) -> ParsedNumber {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { classify(UnsafeBufferPointer($0)) }
    }

    /// Classifies a UTF-8 cell. `percentAllowed` accepts a trailing `%` (ratio fields) and keeps the number as is
    /// (`12.5%` → 12.5, in the canonical unit %).
    public static func classify(_ cell: UnsafeBufferPointer<UInt8>, percentAllowed: Bool = true) -> ParsedNumber {
        // Fast path: plain ASCII digits, optional sign, dot and commas.
        var start = 0, end = cell.count
        while start < end, isSpace(cell[start]) { start += 1 }
        while end > start, isSpace(cell[end - 1]) { end -= 1 }
        if start == end { return .missing }
        var ascii = true
        for i in start..<end where cell[i] >= 0x80 { ascii = false; break }
        if ascii {
            return parseASCII(UnsafeBufferPointer(rebasing: cell[start..<end]), percentAllowed: percentAllowed)
        }
        // Full-width digits and signs (１２３．５, －, ％, ，) and the ideographic space map to ASCII byte by byte;
        // only text that is still not ASCII after that goes through String (placeholders such as — or 无).
        var folded = [UInt8]()
        folded.reserveCapacity(end - start)
        var i = start
        var foldedAll = true
        while i < end {
            let b = cell[i]
            if b < 0x80 { folded.append(b); i += 1; continue }
            if i + 2 < end {
                do {
                    let b1 = cell[i + 1], b2 = cell[i + 2]
                    if b == 0xEF && b1 == 0xBC && b2 >= 0x90 && b2 <= 0x99 { folded.append(b2 - 0x90 + 0x30); i += 3; continue }
                    if b == 0xEF && b1 == 0xBC && b2 == 0x8E { folded.append(0x2E); i += 3; continue }   // ．
                    if b == 0xEF && b1 == 0xBC && b2 == 0x8C { folded.append(0x2C); i += 3; continue }   // ，
                    if b == 0xEF && b1 == 0xBC && b2 == 0x8D { folded.append(0x2D); i += 3; continue }   // －
                    if b == 0xEF && b1 == 0xBC && b2 == 0x8B { folded.append(0x2B); i += 3; continue }   // ＋
                    if b == 0xEF && b1 == 0xBC && b2 == 0x85 { folded.append(0x25); i += 3; continue }   // ％
                    if b == 0xE2 && b1 == 0x88 && b2 == 0x92 { folded.append(0x2D); i += 3; continue }   // −
                    if b == 0xE3 && b1 == 0x80 && b2 == 0x80 { i += 3; continue }                        // ideographic space
                    if b == 0xE3 && b1 == 0x80 && b2 == 0x82 { folded.append(0x2E); i += 3; continue }   // 。 typed for a point
                }
            }
            foldedAll = false
            break
        }
        if foldedAll {
            return folded.withUnsafeBufferPointer { f in
                let t = ByteText.trimmed(f)
                return t.isEmpty ? .missing : parseASCII(t, percentAllowed: percentAllowed)
            }
        }
        let s = String(decoding: UnsafeBufferPointer(rebasing: cell[start..<end]), as: UTF8.self)
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: "\u{3000}")))
        if isPlaceholder(trimmed) || isPlaceholder(HeaderText.halfWidth(trimmed)) { return .missing }
        return .invalid("E-VALUE-NUMBER")
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }

    static func parseASCII(_ c: UnsafeBufferPointer<UInt8>, percentAllowed: Bool) -> ParsedNumber {
        var i = 0, n = c.count
        if n == 0 { return .missing }
        // Placeholders in ASCII: X, XX, -, --, /, N/A, null — never start with a digit, so numbers skip this.
        if n <= 4, !(c[0] >= 0x30 && c[0] <= 0x39) {
            var allX = true
            for k in 0..<n where c[k] != UInt8(ascii: "X") && c[k] != UInt8(ascii: "x") { allX = false; break }
            if allX { return .missing }
            let s = String(decoding: c, as: UTF8.self)
            if isPlaceholder(s) { return .missing }
        }
        if c[n - 1] == UInt8(ascii: "%") {
            guard percentAllowed else { return .invalid("E-VALUE-PERCENT") }
            n -= 1
            while n > 0, isSpace(c[n - 1]) { n -= 1 }
        }
        var negative = false
        if i < n, c[i] == UInt8(ascii: "-") || c[i] == UInt8(ascii: "+") {
            negative = c[i] == UInt8(ascii: "-"); i += 1
        }
        // Accounting negatives: (1,234)
        if i < n, c[i] == UInt8(ascii: "("), c[n - 1] == UInt8(ascii: ")") { negative = true; i += 1; n -= 1 }
        // Digits are accumulated exactly while they fit; later ones only decide rounding.
        var mantissa: Int64 = 0
        var scaleDown = 0           // fraction digits kept in the mantissa
        var scaleUp = 0             // integer digits dropped (mantissa full)
        var firstDropped: UInt8? = nil
        var sawDigit = false, sawDot = false
        var exponent = 0
        while i < n {
            let b = c[i]
            if b >= 0x30 && b <= 0x39 {
                sawDigit = true
                if mantissa < 100_000_000_000_000_000 {
                    mantissa = mantissa * 10 + Int64(b - 0x30)
                    if sawDot { scaleDown += 1 }
                } else {
                    if firstDropped == nil { firstDropped = b - 0x30 }
                    if !sawDot { scaleUp += 1 }
                }
            } else if b == UInt8(ascii: ",") && !sawDot && sawDigit {
                // thousands separator
            } else if b == UInt8(ascii: ".") && !sawDot {
                sawDot = true
            } else if (b == UInt8(ascii: "E") || b == UInt8(ascii: "e")) && sawDigit {
                var j = i + 1
                var expNeg = false
                if j < n, c[j] == UInt8(ascii: "+") || c[j] == UInt8(ascii: "-") { expNeg = c[j] == UInt8(ascii: "-"); j += 1 }
                guard j < n else { return .invalid("E-VALUE-NUMBER") }
                var e = 0
                while j < n {
                    let d = c[j]
                    guard d >= 0x30 && d <= 0x39, e < 1000 else { return .invalid("E-VALUE-NUMBER") }
                    e = e * 10 + Int(d - 0x30); j += 1
                }
                exponent = expNeg ? -e : e
                break
            } else {
                return .invalid("E-VALUE-NUMBER")
            }
            i += 1
        }
        guard sawDigit else { return .invalid("E-VALUE-NUMBER") }
        // value = mantissa × 10^(exponent + scaleUp − scaleDown); raw = value × 1000, rounded half away from zero.
        var shift = exponent + scaleUp - scaleDown + 3
        var raw = mantissa
        if shift >= 0 {
            if firstDropped.map({ $0 >= 5 }) ?? false, shift == 0 { raw += 1 }
            while shift > 0 {
                let (m, o) = raw.multipliedReportingOverflow(by: 10)
                if o { return .invalid("E-VALUE-RANGE") }
                raw = m; shift -= 1
            }
        } else if shift < -18 {
            raw = 0
        } else {
            var divisor: Int64 = 1
            for _ in 0..<(-shift) { divisor *= 10 }
            let q = raw / divisor, r = raw % divisor
            raw = q + (r * 2 >= divisor ? 1 : 0)
        }
        return .value(Milli(raw: negative ? -raw : raw))
    }
}
