/// Turns a submission time as sent into a key that orders by text: UTC `YYYY-MM-DDTHH:MM:SS.sssZ`.
///
/// Written by hand rather than with `ISO8601DateFormatter`/`DateFormatter` because it runs once per record on
/// the load's hot path and must accept the shapes sheets really carry (`2024-03-15T10:02:00+08:00`,
/// `2024/3/15 10:02`, `2024年3月15日`, `20240315`), which no single Foundation format does.
/// A time without a zone is China Standard Time (+08:00), the zone every 联网直报 export uses.
/// Anything unparseable gives nil, which orders as "missing" (earliest): an unreadable time never wins over
/// a readable one.
///
/// ```swift
/// SubmissionTime.key("2024-03-15T10:02:00+08:00") // "2024-03-15T02:02:00.000Z"
/// SubmissionTime.key("2024年3月15日")              // "2024-03-14T16:00:00.000Z"
/// ```
public enum SubmissionTime {
    public static func key(_ raw: String?) -> String? {
        guard let raw else { return nil }
        var nums: [Int] = []
        var widths: [Int] = []
        var fraction = 0, fractionDigits = 0
        var tzSign = 0, tzDigits: [Int] = []
        var inFraction = false, inZone = false
        var cur = -1, width = 0
        var utf8 = Array(raw.utf8)
        // Full-width digits are common in pasted sheets; fold them (０ = EF BC 90 … ９ = EF BC 99).
        if utf8.contains(0xEF) { utf8 = Array(foldFullWidth(raw).utf8) }
        func flush() {
            if cur >= 0 {
                if inZone { tzDigits.append(contentsOf: digitsOf(cur, width: width)) } else { nums.append(cur); widths.append(width) }
            }
            cur = -1; width = 0
        }
        var zoneSeenZ = false
        for b in utf8 {
            if b >= 0x30 && b <= 0x39 {
                let d = Int(b - 0x30)
                if inFraction {
                    if fractionDigits < 3 { fraction = fraction * 10 + d; fractionDigits += 1 }
                    continue
                }
                if cur < 0 { cur = 0 }
                guard width < 14 else { return nil }
                cur = cur * 10 + d; width += 1
                continue
            }
            if inFraction { inFraction = false }
            if b == UInt8(ascii: ".") && nums.count >= 5 && !inZone {
                flush(); inFraction = true; continue
            }
            if (b == UInt8(ascii: "+") || b == UInt8(ascii: "-")) && nums.count + (cur >= 0 ? 1 : 0) >= 4 && !inZone {
                flush(); inZone = true; tzSign = b == UInt8(ascii: "+") ? 1 : -1; continue
            }
            if b == UInt8(ascii: "Z") || b == UInt8(ascii: "z") {
                flush(); zoneSeenZ = true; tzSign = 0; inZone = true; continue
            }
            flush()
        }
        flush()
        // Compact forms: 20240315 or 20240315100200.
        if nums.count == 1, widths[0] == 8 || widths[0] == 12 || widths[0] == 14 {
            let v = nums[0], w = widths[0]
            var parts: [Int] = []
            let s = String(v).count < w ? String(repeating: "0", count: w - String(v).count) + String(v) : String(v)
            var idx = s.startIndex
            for len in [4, 2, 2, 2, 2, 2] where s.distance(from: idx, to: s.endIndex) >= len {
                let end = s.index(idx, offsetBy: len)
                parts.append(Int(s[idx..<end])!)
                idx = end
            }
            nums = parts
        }
        guard nums.count >= 3, nums.count <= 6 else { return nil }
        let y = nums[0], mo = nums[1], d = nums[2]
        let h = nums.count > 3 ? nums[3] : 0, mi = nums.count > 4 ? nums[4] : 0, s = nums.count > 5 ? nums[5] : 0
        guard (1900...2200).contains(y), (1...12).contains(mo), d >= 1, d <= daysIn(month: mo, year: y),
              (0...23).contains(h), (0...59).contains(mi), (0...60).contains(s) else { return nil }
        var offsetMinutes = 8 * 60
        if inZone {
            if zoneSeenZ && tzDigits.isEmpty {
                offsetMinutes = 0
            } else {
                guard tzSign != 0, tzDigits.count == 2 || tzDigits.count == 4 else { return nil }
                let oh = tzDigits[0] * 10 + tzDigits[1]
                let om = tzDigits.count == 4 ? tzDigits[2] * 10 + tzDigits[3] : 0
                guard oh <= 14, om < 60 else { return nil }
                offsetMinutes = tzSign * (oh * 60 + om)
            }
        }
        var ms = fraction
        for _ in fractionDigits..<3 { ms *= 10 }
        var total = daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offsetMinutes * 60
        let days = Int((Double(total) / 86_400).rounded(.down))
        total -= days * 86_400
        let (cy, cm, cd) = civil(fromDays: days)
        return "\(pad(cy, 4))-\(pad(cm, 2))-\(pad(cd, 2))T\(pad(total / 3600, 2)):\(pad(total % 3600 / 60, 2)):\(pad(total % 60, 2)).\(pad(ms, 3))Z"
    }

    private static func digitsOf(_ v: Int, width: Int) -> [Int] {
        var out: [Int] = []
        var x = v
        for _ in 0..<width { out.append(x % 10); x /= 10 }
        return out.reversed()
    }

    private static func foldFullWidth(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { u in
            (0xFF10...0xFF19).contains(u.value) ? Unicode.Scalar(u.value - 0xFF10 + 0x30)! :
            u.value == 0xFF1A ? ":" : u.value == 0xFF0B ? "+" : u.value == 0xFF0D ? "-" : u
        }))
    }

    private static func pad(_ v: Int, _ w: Int) -> String {
        let s = String(v)
        return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's days-from-civil: days since 1970-01-01 of a proleptic Gregorian date.
    private static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
