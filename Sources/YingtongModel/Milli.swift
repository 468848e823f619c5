import Foundation

/// An exact number: thousandths of a field's canonical unit, as a 64-bit integer.
///
/// Money's canonical unit is 千元, so one milli is exactly one 元: sums of money never drift the way binary
/// floating point does (DOMAIN §0.1). The range is ±9.2e15 canonical units, far beyond any county or province.
///
/// ```swift
/// Milli.parse("1,234.5")       // 1_234_500
/// Milli(units: 12).description // "12"
/// ```
public struct Milli: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let scale: Int64 = 1000
    public var raw: Int64

    public init(raw: Int64) { self.raw = raw }
    public init(units: Int64) { self.raw = units * Milli.scale }

    public static func < (a: Milli, b: Milli) -> Bool { a.raw < b.raw }
    public static func + (a: Milli, b: Milli) -> Milli { Milli(raw: a.raw &+ b.raw) }
    public static func - (a: Milli, b: Milli) -> Milli { Milli(raw: a.raw &- b.raw) }
    public static let zero = Milli(raw: 0)

    public var isIntegral: Bool { raw % Milli.scale == 0 }
    public var isNegative: Bool { raw < 0 }
    public var doubleValue: Double { Double(raw) / Double(Milli.scale) }
    public var decimalValue: Decimal { Decimal(raw) / Decimal(Milli.scale) }

    /// Plain decimal text with no trailing zeros: `1234.5`, `-0.001`, `12`.
    public var description: String {
        let neg = raw < 0
        let mag = raw.magnitude
        let whole = mag / UInt64(Milli.scale)
        var frac = mag % UInt64(Milli.scale)
        var s = (neg ? "-" : "") + String(whole)
        if frac != 0 {
            var digits = 3
            while frac % 10 == 0 { frac /= 10; digits -= 1 }
            let f = String(frac)
            s += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return s
    }

    /// Multiplies by an exact decimal factor (a unit conversion), rounding half away from zero to a milli.
    /// Returns nil on overflow.
    public func scaled(by factor: UnitFactor) -> Milli? {
        // Most cells are already in the canonical unit, or in 万元/亿元 (whole multiples): no division needed.
        if factor.denominator == 1 {
            if factor.numerator == 1 { return self }
            let (p, o) = raw.multipliedReportingOverflow(by: factor.numerator)
            return o ? nil : Milli(raw: p)
        }
        // 128-bit intermediate through the full-width UInt64 operations: Int128 values on the stack crashed debug
        // builds of Swift 6.3 on x86_64 Linux (misaligned SSE moves), seen by the rule engine's number type.
        let negative = raw < 0
        let (high, low) = raw.magnitude.multipliedFullWidth(by: UInt64(factor.numerator))
        let d = UInt64(factor.denominator)
        guard high < d else { return nil }
        let (q, r) = d.dividingFullWidth((high, low))
        let rounded = q + (r >= d - r ? 1 : 0)
        guard rounded <= UInt64(Int64.max) else { return nil }
        return Milli(raw: negative ? -Int64(rounded) : Int64(rounded))
    }
}

/// An exact unit factor `numerator / denominator` (e.g. 万元 → 千元 = 10/1, 元 → 千元 = 1/1000).
public struct UnitFactor: Sendable, Hashable {
    public let numerator: Int64
    public let denominator: Int64
    public static let one = UnitFactor(numerator: 1, denominator: 1)

    public init(numerator: Int64, denominator: Int64) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Parses `"10"`, `"0.001"`, `"100000"`.
    public init?(decimal text: String) {
        guard let m = NumberText.parse(text), m.raw > 0 else { return nil }
        // m.raw / 1000, reduced
        var n = m.raw, d = Milli.scale
        var a = n, b = d
        while b != 0 { (a, b) = (b, a % b) }
        n /= a; d /= a
        self.init(numerator: n, denominator: d)
    }
}
