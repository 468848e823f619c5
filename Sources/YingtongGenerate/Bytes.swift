// Numbers are formatted straight into the byte buffer: at a million enterprises × ~60 cells, going through
// `String(describing:)` and string interpolation per cell would dominate the run time.

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func comma() { append(0x2C) }

    @inline(__always)
    mutating func crlf() { append(0x0D); append(0x0A) }

    @inline(__always)
    mutating func text(_ s: String) { append(contentsOf: s.utf8) }

    /// A non-negative or negative integer in plain decimal.
    mutating func int(_ value: Int64) {
        if value < 0 { append(0x2D) }
        var v = value.magnitude
        if v < 10 { append(0x30 + UInt8(v)); return }
        // digit count by comparison, then fill from the right: division by the constant 10 compiles to a multiply
        var digits = 1
        var t = v
        while t >= 10 { t /= 10; digits += 1 }
        let base = count
        append(contentsOf: repeatElement(0x30, count: digits))
        withUnsafeMutableBufferPointer { buf in
            var i = base + digits - 1
            while v > 0 { buf[i] = 0x30 + UInt8(truncatingIfNeeded: v % 10); v /= 10; i -= 1 }
        }
    }

    @inline(__always)
    mutating func int(_ value: Int) { int(Int64(value)) }

    /// `value / divisor` exactly, without trailing zeros (`divisor` a power of ten): 123400 ÷ 1000 → `123.4`.
    mutating func decimal(_ value: Int64, divisor: Int64, thousands: Bool = false) {
        let neg = value < 0
        let mag = value.magnitude
        let whole = mag / UInt64(divisor)
        var frac = mag % UInt64(divisor)
        if neg { append(0x2D) }
        if thousands && whole >= 1000 {
            groupedInt(whole)
        } else {
            int(Int64(whole))
        }
        guard frac != 0 else { return }
        var digits = 0
        var d = divisor
        while d > 1 { d /= 10; digits += 1 }
        while frac % 10 == 0 { frac /= 10; digits -= 1 }
        append(0x2E)
        var scale: UInt64 = 1
        for _ in 1..<digits { scale *= 10 }
        while scale > 0 {
            append(0x30 + UInt8((frac / scale) % 10))
            scale /= 10
        }
    }

    private mutating func groupedInt(_ v: UInt64) {
        if v >= 1000 {
            groupedInt(v / 1000)
            append(0x2C)
            let r = v % 1000
            append(0x30 + UInt8(r / 100)); append(0x30 + UInt8(r / 10 % 10)); append(0x30 + UInt8(r % 10))
        } else {
            int(Int64(v))
        }
    }

    /// The integer in full-width digits (`１２３`), as some people type in Chinese input mode.
    mutating func fullWidthInt(_ value: Int64) {
        var ascii: [UInt8] = []
        ascii.int(value)
        for b in ascii {
            // U+FF10…U+FF19 (digits) and U+FF0D (minus) are EF BC 90…99 and EF BC 8D in UTF-8
            append(0xEF); append(0xBC); append(b == 0x2D ? 0x8D : 0x90 + (b - 0x30))
        }
    }
}
