import Foundation
import YingtongModel

/// The rule language's one number type: an exact decimal with six fractional digits, held in an `Int64`.
///
/// Field values arrive as `Milli` (thousandths of the canonical unit, so 1 milli = 1 元 for money) and widen
/// to `Dec` without loss (× 1000). `+ - *` are exact whenever the true result has ≤ 6 fractional digits
/// (money × a rate like 0.25 always is); products and quotients are computed on 128-bit intermediates
/// (`multipliedFullWidth` / `dividingFullWidth`) and rounded half to even at the sixth digit, which is what
/// "ratio" means in this language: `1 / 3` is `0.333333`. Six digits hold R208's band `0.0008` exactly and
/// leave a range of ±9.2e12 units (9.2e12 千元 is far beyond any province). A result outside the range is
/// null — "not applicable" — never a trap and never a wrapped-around number.
///
/// Why not `Int64` storage: on x86_64 Linux, Swift 6.3 debug builds copy `Int64`-holding values with
/// aligned SSE moves into stack slots that are only 8-byte aligned (a crash we hit); `Int64` is also half
/// the memory traffic in the column kernels.
///
/// ```swift
/// Dec(milli: Milli(raw: 1_500)) * Dec(units: 2) == Dec(units: 3)   // true
/// Dec.dividing(Dec(units: 1), Dec(units: 3))?.description           // "0.333333"
/// ```
public struct Dec: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let scale: Int64 = 1_000_000
    static let milliFactor: Int64 = 1_000
    static let digits = 6
    public var raw: Int64

    public init(raw: Int64) { self.raw = raw }
    public init(units: Int) { raw = Int64(units) &* Dec.scale }
    /// nil when the value is beyond the language's range (±9.2e12 units).
    public init?(milli: Milli) {
        let (r, o) = milli.raw.multipliedReportingOverflow(by: Dec.milliFactor)
        if o { return nil }
        raw = r
    }

    public static let zero = Dec(raw: 0)
    public static func < (a: Dec, b: Dec) -> Bool { a.raw < b.raw }

    public static func adding(_ a: Dec, _ b: Dec) -> Dec? {
        let (r, o) = a.raw.addingReportingOverflow(b.raw)
        return o ? nil : Dec(raw: r)
    }

    public static func subtracting(_ a: Dec, _ b: Dec) -> Dec? {
        let (r, o) = a.raw.subtractingReportingOverflow(b.raw)
        return o ? nil : Dec(raw: r)
    }

    /// Product rounded half to even at the sixth digit; nil on overflow.
    public static func multiplying(_ a: Dec, _ b: Dec) -> Dec? {
        let neg = (a.raw < 0) != (b.raw < 0)
        let wide = a.raw.magnitude.multipliedFullWidth(by: b.raw.magnitude)
        return quotient(wide, UInt64(Dec.scale), negative: neg)
    }

    /// Quotient rounded half to even at the sixth digit; nil for a zero divisor or overflow.
    public static func dividing(_ a: Dec, _ b: Dec) -> Dec? {
        guard b.raw != 0 else { return nil }
        let neg = (a.raw < 0) != (b.raw < 0)
        let wide = a.raw.magnitude.multipliedFullWidth(by: UInt64(Dec.scale))
        return quotient(wide, b.raw.magnitude, negative: neg)
    }

    /// (high, low) ÷ d, rounded half to even, as a signed Dec; nil if it does not fit.
    @inline(__always)
    static func quotient(_ wide: (high: UInt64, low: UInt64), _ d: UInt64, negative: Bool) -> Dec? {
        guard wide.high < d else { return nil }
        var (q, r) = d.dividingFullWidth(wide)
        // Round half to even: compare 2r with d without overflowing.
        if r > d - r || (r == d - r && q & 1 == 1) {
            guard q < UInt64.max else { return nil }
            q += 1
        }
        guard q <= UInt64(Int64.max) else { return nil }
        return Dec(raw: negative ? -Int64(q) : Int64(q))
    }

    /// Rounds half away from zero to `digits` fractional digits (the statistician's 四舍五入).
    public func rounded(digits: Int) -> Dec {
        let d = max(0, min(Dec.digits, digits))
        var unit: Int64 = 1
        for _ in 0..<(Dec.digits - d) { unit *= 10 }
        if unit == 1 { return self }
        var q = raw / unit
        let r = raw % unit
        if r.magnitude * 2 >= unit.magnitude { q += raw < 0 ? -1 : 1 }
        return Dec(raw: q &* unit)
    }

    public var isIntegral: Bool { raw % Dec.scale == 0 }
    public var magnitude: Dec { Dec(raw: raw < 0 ? 0 &- raw : raw) }
    public var doubleValue: Double { Double(raw) / Double(Dec.scale) }

    /// Parses a decimal literal exactly (`12`, `-0.00125`); no exponent, at most six fractional digits.
    public init?(_ text: some StringProtocol) {
        var s = Substring(text)
        var neg = false
        if s.first == "-" { neg = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first else { return nil }
        let frac = parts.count == 2 ? parts[1] : ""
        guard whole.allSatisfy({ $0.isASCII && $0.isNumber }), frac.allSatisfy({ $0.isASCII && $0.isNumber }),
              frac.count <= Dec.digits, whole.count <= 12, !(whole.isEmpty && frac.isEmpty) else { return nil }
        var v: Int64 = 0
        for c in whole { v = v * 10 + Int64(c.asciiValue! - 48) }
        var f: Int64 = 0
        for c in frac { f = f * 10 + Int64(c.asciiValue! - 48) }
        for _ in frac.count..<Dec.digits { f *= 10 }
        raw = (v * Dec.scale + f) * (neg ? -1 : 1)
    }

    /// Plain decimal text without trailing zeros: `1234.5`, `-0.001`, `12`.
    public var description: String {
        let mag = raw.magnitude
        let whole = mag / UInt64(Dec.scale)
        var frac = mag % UInt64(Dec.scale)
        var s = (raw < 0 ? "-" : "") + String(whole)
        if frac != 0 {
            var digits = Dec.digits
            while frac % 10 == 0 { frac /= 10; digits -= 1 }
            let f = String(frac)
            s += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return s
    }
}
