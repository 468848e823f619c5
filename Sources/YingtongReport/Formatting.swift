import Foundation
import YingtongModel
import YingtongStore

/// Numbers for people: fixed decimals per unit, rounded half away from zero from the exact stored decimals.
/// The stored values stay exact; only what is shown is rounded, and never to a figure the data do not give.
public enum Fmt {
    /// Decimals shown for an indicator unit.
    public static func places(unit: String) -> Int {
        switch unit {
        case "亿元": 4
        case "%", "个百分点", "人年/万人": 2
        case "人年": 1
        case "家", "项", "个", "人": 0
        default: 2
        }
    }

    /// `d` with exactly `places` decimals (half away from zero), grouping-free, "-" sign.
    public static func decimal(_ d: Decimal, places: Int) -> String {
        var input = d
        var out = Decimal()
        NSDecimalRound(&out, &input, places, .plain)
        let negative = out < 0
        var text = (negative ? -out : out).description
        if places > 0 {
            if !text.contains(".") { text += "." }
            let decimals = text.count - (text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) } ?? 0) - 1
            if decimals < places { text += String(repeating: "0", count: places - decimals) }
        }
        return (negative && out != 0 ? "-" : "") + text
    }

    public static func value(_ d: Decimal?, unit: String) -> String {
        guard let d else { return "—" }
        return decimal(d, places: places(unit: unit))
    }

    /// 元 (stored money) → 万元 with four decimals, as the omission list shows it.
    public static func wan(_ m: Milli) -> String {
        decimal(Decimal(m.raw) / 10_000, places: 4)
    }

    public static func int(_ n: Int) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// A file size as people read it: KB below a megabyte, MB above.
    public static func size(_ bytes: Int64) -> String {
        bytes < 1_000_000 ? String(format: "%.1f KB", Double(bytes) / 1e3) : String(format: "%.2f MB", Double(bytes) / 1e6)
    }
}

/// Safe file names for feedback pages: a USCC is 18 characters of [0-9A-Z], but a broken one (quarantined
/// identity, a name-matched registry row) may hold anything; those characters become `_` plus a short hash so two
/// broken codes never share a file.
enum FeedbackFileName {
    static func stem(uscc: String, period: Int) -> String {
        let clean = uscc.unicodeScalars.allSatisfy { ($0 >= "0" && $0 <= "9") || ($0 >= "A" && $0 <= "Z") }
        if clean && !uscc.isEmpty { return "\(uscc)-\(period)" }
        var h: UInt32 = 2_166_136_261
        for b in uscc.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        let safe = String(uscc.unicodeScalars.map { s -> Character in
            (s >= "0" && s <= "9") || (s >= "A" && s <= "Z") || (s >= "a" && s <= "z") ? Character(s) : "_"
        }.prefix(24))
        return "\(safe)_\(String(h, radix: 16))-\(period)"
    }
}
