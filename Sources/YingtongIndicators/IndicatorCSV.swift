import Foundation
import YingtongStore

/// `indicators.csv`: one row per indicator, plain UTF-8 (no BOM), RFC 4180 quoting, CRLF line ends.
///
/// Numbers are written as exact decimal text. A text cell that begins with `= + - @` is prefixed with `'` so a
/// spreadsheet never evaluates it (FORMATS §6); numeric cells are left alone — a negative change is a number.
///
/// ```swift
/// try IndicatorCSV.text(rows).write(toFile: "out/indicators.csv", atomically: true, encoding: .utf8)
/// ```
public enum IndicatorCSV {
    public static let header = ["region_code", "period", "code", "name_zh", "value", "unit", "prev_value", "change",
                                "change_unit", "growth_rate", "target", "completion_rate", "rank", "note"]

    public static func text(_ rows: [IndicatorRow]) -> String {
        var out = header.joined(separator: ",") + "\r\n"
        for r in rows {
            let cells: [String] = [
                text(r.regionCode), String(r.period), text(r.code), text(r.nameZh), number(r.value), text(r.unit),
                number(r.prevValue), number(r.change), text(r.changeUnit ?? ""), number(r.growthRate),
                number(r.target), number(r.completionRate), r.rank.map(String.init) ?? "", text(r.note ?? ""),
            ]
            out += cells.joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func number(_ d: Decimal?) -> String { d.map { $0.description } ?? "" }

    static func text(_ s: String) -> String {
        var s = s
        if let f = s.first, "=+-@".contains(f) { s = "'" + s }
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }
}
