import Foundation
import YingtongExport
import YingtongModel
import YingtongStore

/// `应统尽统排查清单.csv`: the omission list for people, largest estimated missing amount first. UTF-8 with a BOM
/// and CRLF so that Excel on a bureau's desktop opens it in Chinese; text cells that a spreadsheet would run
/// as a formula are prefixed with an apostrophe.
enum OmissionCSV {
    static let fileName = "应统尽统排查清单.csv"
    static let header = ["序号", "统一社会信用代码", "单位名称", "行政区划代码", "本期是否报送", "指向规则",
                         "已报研究开发费用合计（千元）", "估计漏统金额（万元）", "证据", "估算方法"]

    static func write(writer: RunWriter, to path: String) throws {
        let out = try OutputFile(path: path)
        try out.write("\u{FEFF}" + header.map(cell).joined(separator: ",") + "\r\n")
        var number = 0
        try writer.forEachOmission { e in
            number += 1
            let row: [String] = [
                String(number), e.uscc, e.name ?? "", e.regionCode ?? "", e.reported ? "是" : "否",
                e.rules.joined(separator: " "), e.reportedRDExp?.description ?? "",
                wan(e.estimatedMissing), e.evidenceZh, e.method,
            ]
            try out.write(row.map(cell).joined(separator: ",") + "\r\n")
        }
        try out.close()
    }

    /// 千元 → 万元 with four decimals (exact: 1 万元 = 10 千元).
    static func wan(_ m: Milli) -> String {
        let raw = m.raw   // thousandths of 千元 = 元
        let sign = raw < 0 ? "-" : ""
        let a = raw.magnitude
        let whole = a / 10_000, frac = a % 10_000
        let f = String(frac).count < 4 ? String(repeating: "0", count: 4 - String(frac).count) + String(frac) : String(frac)
        return "\(sign)\(whole).\(f)"
    }

    /// One CSV cell; checked over UTF-8 bytes, as Character iteration over the Chinese evidence text was most
    /// of the time of writing the list.
    static func cell(_ s: String) -> String {
        var t = s
        if let f = t.utf8.first, f == UInt8(ascii: "=") || f == UInt8(ascii: "+") || f == UInt8(ascii: "-")
            || f == UInt8(ascii: "@") || f == UInt8(ascii: "\t") || f == UInt8(ascii: "\r"), Double(t) == nil {
            t = "'" + t
        }
        if t.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
            return "\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return t
    }
}
