import Foundation
import YingtongModel

/// The rule language's one number type: an exact decimal with twelve fractional digits, held in an `Int128`.
///
/// Field values arrive as `Milli` (thousandths of the canonical unit, so 1 milli = 1 元 for money) and widen
/// to `Dec` without loss. `+ - *` are exact whenever the true result has ≤ 12 fractional digits (money × a
/// rate like 0.25 always is); `/` rounds half to even at the twelfth digit, which is what "ratio" means in
/// this language: `1 / 3` is `0.333333333333`. Twelve digits keep R208's band `0.0008` and any share exact
/// while leaving a range of ±1.7e26 units — no county, province or country comes near it.
///
/// ```swift
/// Dec(milli: Milli(raw: 1_500)) * Dec(units: 2) == Dec(units: 3)   // true
/// (Dec(units: 1) / Dec(units: 3))?.description                      // "0.333333333333"
/// ```
public struct Dec: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let scale: Int128 = 1_000_000_000_000
    static let milliFactor: Int128 = 1_000_000_000
    public var raw: Int128

    public init(raw: Int128) { self.raw = raw }
    public init(units: Int) { raw = Int128(units) * Dec.scale }
    public init(milli: Milli) { raw = Int128(milli.raw) * Dec.milliFactor }
    @inline(__always) public init(milliRaw: Int64) { raw = Int128(milliRaw) * Dec.milliFactor }

    public static let zero = Dec(raw: 0)
    public static func < (a: Dec, b: Dec) -> Bool { a.raw < b.raw }

    /// Exact sum; nil on overflow (far beyond any real figure, but bad input must not trap).
    public static func adding(_ a: Dec, _ b: Dec) -> Dec? {
        let (r, o) = a.raw.addingReportingOverflow(b.raw)
        return o ? nil : Dec(raw: r)
    }

    public static func subtracting(_ a: Dec, _ b: Dec) -> Dec? {
        let (r, o) = a.raw.subtractingReportingOverflow(b.raw)
        return o ? nil : Dec(raw: r)
    }

    /// Product rounded half to even at the 12th digit (exact when the true product has ≤ 12 digits).
    public static func multiplying(_ a: Dec, _ b: Dec) -> Dec? {
        // Fast path: both operands small enough that the product of raws fits in Int128.
        let (p, o) = a.raw.multipliedReportingOverflow(by: b.raw)
        if !o { return Dec(raw: divRound(p, scale)) }
        let neg = (a.raw < 0) != (b.raw < 0)
        let wide = a.raw.magnitude.multipliedFullWidth(by: b.raw.magnitude)
        guard wide.high < UInt128(Dec.scale) else { return nil }
        let (q, r) = UInt128(Dec.scale).dividingFullWidth(wide)
        var m = q
        let twice = r &* 2
        if twice > UInt128(Dec.scale) || (twice == UInt128(Dec.scale) && m & 1 == 1) { m += 1 }
        guard m <= UInt128(Int128.max) else { return nil }
        return Dec(raw: neg ? -Int128(m) : Int128(m))
    }

    /// Quotient rounded half to even at the 12th digit; nil for a zero divisor or overflow.
    public static func dividing(_ a: Dec, _ b: Dec) -> Dec? {
        guard b.raw != 0 else { return nil }
        let (p, o) = a.raw.multipliedReportingOverflow(by: Dec.scale)
        if !o { return Dec(raw: divRound(p, b.raw)) }
        let neg = (a.raw < 0) != (b.raw < 0)
        let wide = a.raw.magnitude.multipliedFullWidth(by: UInt128(Dec.scale))
        let d = b.raw.magnitude
        guard wide.high < d else { return nil }
        let (q, r) = d.dividingFullWidth(wide)
        var m = q
        let twice = r &* 2
        if r > d / 2 || (twice == d && m & 1 == 1) { m += 1 }
        guard m <= UInt128(Int128.max) else { return nil }
        return Dec(raw: neg ? -Int128(m) : Int128(m))
    }

    /// n / d rounded half to even, both signed.
    @inline(__always) static func divRound(_ n: Int128, _ d: Int128) -> Int128 {
        var q = n / d
        let r = n % d
        if r != 0 {
            let twice = r.magnitude * 2
            if twice > d.magnitude || (twice == d.magnitude && q & 1 != 0) {
                q += ((n < 0) != (d < 0)) ? -1 : 1
            }
        }
        return q
    }

    /// Rounds half away from zero to `digits` fractional digits (the statistician's 四舍五入).
    public func rounded(digits: Int) -> Dec {
        let d = max(0, min(12, digits))
        var unit: Int128 = 1
        for _ in 0..<(12 - d) { unit *= 10 }
        if unit == 1 { return self }
        var q = raw / unit
        let r = raw % unit
        if r.magnitude * 2 >= unit.magnitude { q += raw < 0 ? -1 : 1 }
        return Dec(raw: q * unit)
    }

    public var isIntegral: Bool { raw % Dec.scale == 0 }
    public var magnitude: Dec { Dec(raw: raw < 0 ? -raw : raw) }
    public var doubleValue: Double { Double(raw) / 1e12 }

    /// Parses a decimal literal exactly (`12`, `-0.00125`, `1e3` is not accepted: the language has no exponent).
    public init?(_ text: some StringProtocol) {
        var s = Substring(text)
        var neg = false
        if s.first == "-" { neg = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty || parts.count == 2 else { return nil }
        let frac = parts.count == 2 ? parts[1] : ""
        guard whole.allSatisfy({ $0.isASCII && $0.isNumber }), frac.allSatisfy({ $0.isASCII && $0.isNumber }),
              frac.count <= 12, whole.count <= 25, !(whole.isEmpty && frac.isEmpty) else { return nil }
        var v: Int128 = 0
        for c in whole { v = v * 10 + Int128(c.asciiValue! - 48) }
        var f: Int128 = 0
        for c in frac { f = f * 10 + Int128(c.asciiValue! - 48) }
        for _ in frac.count..<12 { f *= 10 }
        raw = (v * Dec.scale + f) * (neg ? -1 : 1)
    }

    /// Plain decimal text without trailing zeros: `1234.5`, `-0.001`, `12`.
    public var description: String {
        let mag = raw.magnitude
        let whole = mag / UInt128(Dec.scale)
        var frac = mag % UInt128(Dec.scale)
        var s = (raw < 0 ? "-" : "") + String(whole)
        if frac != 0 {
            var digits = 12
            while frac % 10 == 0 { frac /= 10; digits -= 1 }
            let f = String(frac)
            s += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return s
    }
}
