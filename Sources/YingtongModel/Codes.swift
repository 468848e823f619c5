import Foundation
import Yams

/// 统一社会信用代码 (GB 32100-2015) and its embedded 组织机构代码 (GB 11714-1997), DOMAIN §5.1–5.2.
public enum USCC {
    public static let charset = Array("0123456789ABCDEFGHJKLMNPQRTUWXY".utf8)
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    private static let valueOf: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in charset.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    /// Upper-cases, trims and removes inner spaces and hyphens; full-width letters become ASCII.
    public static func normalize(_ raw: String) -> String {
        // Fast path: already 18 upper-case ASCII letters and digits, as nearly every cell is.
        let utf8 = raw.utf8
        if utf8.count == 18, utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }) {
            return raw
        }
        var s = HeaderText.halfWidth(raw).uppercased()
        s.removeAll { $0 == " " || $0 == "-" || $0 == "\t" || $0 == "\u{a0}" }
        return s
    }

    public enum Problem: String, Sendable {
        case length = "长度不是18位"
        case charset = "含有不允许的字符（I、O、S、V、Z 或其他符号）"
        case areaDigits = "第3至8位（登记管理机关行政区划码）不是数字"
        case checkChar = "校验位错误"
    }

    /// The check character for the first 17 characters, or nil if one of them is outside the charset.
    public static func checkChar(_ first17: some Collection<UInt8>) -> UInt8? {
        var sum = 0
        // The tables once per call: a global's lazy-initialisation check per character showed in profiles.
        let valueOf = valueOf, weights = weights
        for (i, c) in first17.enumerated() {
            let v = valueOf[Int(c)]
            if v < 0 { return nil }
            sum += Int(v) * weights[i]
        }
        return charset[(31 - sum % 31) % 31]
    }

    /// nil when valid, else the first problem found. `s` must already be normalized.
    ///
    /// Runs once per record and project on the reading thread and once per enterprise in the rule stage, so it
    /// reads the string's UTF-8 in place: the copy into an array was 6% of the reading thread's time.
    public static func problem(_ s: String) -> Problem? {
        ByteText.withUTF8(s) { problem(bytes: $0) }
    }

    private static func problem(bytes b: UnsafeBufferPointer<UInt8>) -> Problem? {
        let valueOf = valueOf
        guard b.count == 18 else { return .length }
        for c in b where valueOf[Int(c)] < 0 { return .charset }
        for c in b[2..<8] where !(c >= 0x30 && c <= 0x39) { return .areaDigits }
        guard let check = checkChar(b[0..<17]), check == b[17] else { return .checkChar }
        return nil
    }

    public static func isValid(_ s: String) -> Bool { problem(s) == nil }

    /// Chars 3–8: the registration authority's area code.
    public static func areaCode(_ s: String) -> String? {
        let b = Array(s.utf8)
        guard b.count == 18 else { return nil }
        return String(decoding: b[2..<8], as: UTF8.self)
    }

    /// Chars 9–17: the embedded 组织机构代码 (8-char body + check char).
    public static func embeddedOrgCode(_ s: String) -> String? {
        let b = Array(s.utf8)
        guard b.count == 18 else { return nil }
        return String(decoding: b[8..<17], as: UTF8.self)
    }

    /// Makes a valid USCC from 17 characters (for generators and tests).
    public static func complete(_ first17: String) -> String? {
        let b = Array(first17.utf8)
        guard b.count == 17, let c = checkChar(b) else { return nil }
        return first17 + String(UnicodeScalar(c))
    }
}

public enum OrgCode {
    static let weights = [3, 7, 9, 10, 5, 8, 4, 2]

    /// The GB 11714 check char of an 8-char body, or nil if a char is not 0–9/A–Z.
    public static func checkChar(_ body: some Collection<UInt8>) -> UInt8? {
        guard body.count == 8 else { return nil }
        var sum = 0
        for (i, c) in body.enumerated() {
            let v: Int
            if c >= 0x30 && c <= 0x39 { v = Int(c - 0x30) } else if c >= 0x41 && c <= 0x5A { v = Int(c) - 55 } else { return nil }
            sum += v * weights[i]
        }
        let c9 = 11 - sum % 11
        return c9 == 10 ? UInt8(ascii: "X") : c9 == 11 ? UInt8(ascii: "0") : UInt8(0x30 + c9)
    }

    /// `MA2A7K5N2` or `MA2A7K5N-2`.
    public static func isValid(_ code: String) -> Bool {
        let b = Array(code.utf8).filter { $0 != UInt8(ascii: "-") }
        guard b.count == 9, let c = checkChar(b[0..<8]) else { return false }
        return c == b[8]
    }
}

/// 行政区划代码 (GB/T 2260): structure checks; membership of a year's list is a reference-data question.
public enum RegionCode {
    public static func isWellFormed(_ code: String) -> Bool {
        let b = Array(code.utf8)
        guard b.count == 6, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        let province = Int(code.prefix(2))!
        return province >= 11 && province <= 82
    }

    /// `330782` → `330700` (prefecture), `330000` (province).
    public static func prefecture(_ code: String) -> String { String(code.prefix(4)) + "00" }
    public static func province(_ code: String) -> String { String(code.prefix(2)) + "0000" }
}

/// 国民经济行业分类 GB/T 4754-2017 (DOMAIN §5.4) and the 高技术制造业 list (§5.5).
public final class IndustryClassification: Sendable {
    public struct Section: Sendable { public let letter: Character; public let name: String; public let divisions: ClosedRange<Int> }
    public let sections: [Section]
    public let industrialSections: Set<Character>
    public let hightechClasses: Set<String>
    public let hightechEdition: String
    private let _sectionByDivision: [Character?]

    public static let standard: IndustryClassification = {
        do {
            return try IndustryClassification(sectionsYAML: ReferenceData.text("industry_sections.yaml"),
                                              hightechYAML: ReferenceData.text("hightech_industries.yaml"))
        } catch {
            fatalError("内置行业分类数据无法读取：\(error)")
        }
    }()

    public init(sectionsYAML: String, hightechYAML: String) throws {
        guard let root = try Yams.load(yaml: sectionsYAML) as? [String: Any],
              let secs = root["sections"] as? [String: Any] else {
            throw ReferenceError.malformed("industry_sections.yaml", "缺少 sections")
        }
        sections = secs.compactMap { key, value in
            guard let m = value as? [String: Any], let d = m["divisions"] as? [Int], d.count == 2, let letter = key.first
            else { return nil }
            return Section(letter: letter, name: (m["name"] as? String) ?? key, divisions: d[0]...d[1])
        }.sorted { $0.letter < $1.letter }
        industrialSections = Set(((root["industrial_sections"] as? [String]) ?? []).compactMap(\.first))
        var table = [Character?](repeating: nil, count: 100)
        for sec in sections { for d in sec.divisions where d < 100 { table[d] = sec.letter } }
        _sectionByDivision = table
        hightechClasses = try Self.loadHightech(hightechYAML).codes
        hightechEdition = try Self.loadHightech(hightechYAML).edition
    }

    static func loadHightech(_ yaml: String) throws -> (codes: Set<String>, edition: String) {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any], let groups = root["groups"] as? [String: Any] else {
            throw ReferenceError.malformed("hightech_industries.yaml", "缺少 groups")
        }
        var codes = Set<String>()
        for case let g as [String: Any] in groups.values {
            for c in (g["codes"] as? [Any]) ?? [] { codes.insert("\(c)") }
        }
        return (codes, "\(root["edition"] ?? "")")
    }

    private var sectionByDivision: [Character?] {
        _sectionByDivision
    }

    public func section(ofDivision division: Int) -> Section? {
        sections.first { $0.divisions.contains(division) }
    }

    public enum Parsed: Sendable, Equatable {
        /// `letter + 4 digits` normalized (e.g. `C3841`); fewer digits when the source gave a higher level.
        case valid(String)
        case invalid(String)
    }

    /// Accepts `3841`, `C3841`, `c 3841`, `384`, `38`; checks that the letter agrees with the 大类.
    public func parse(_ raw: String) -> Parsed {
        // Fast path: four ASCII digits, as industry codes nearly always arrive.
        let u = Array(raw.utf8)
        if u.count == 4, u.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            let division = Int(u[0] - 0x30) * 10 + Int(u[1] - 0x30)
            if let sec = sectionByDivision[division] { return .valid(String(sec) + raw) }
        }
        // `C3841`, as bureau exports write it.
        if u.count == 5, u[0] >= 0x41, u[0] <= 0x5A, u[1...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            let division = Int(u[1] - 0x30) * 10 + Int(u[2] - 0x30)
            if let sec = sectionByDivision[division], sec.asciiValue == u[0] { return .valid(raw) }
        }
        var s = HeaderText.halfWidth(raw).uppercased()
        s.removeAll { $0 == " " || $0 == "-" }
        var letter: Character?
        if let f = s.first, f.isLetter { letter = f; s.removeFirst() }
        guard (2...4).contains(s.count), s.allSatisfy(\.isASCII), s.allSatisfy(\.isNumber), let division = Int(s.prefix(2)) else {
            return .invalid("不是GB/T 4754-2017的行业代码格式（应为门类字母加2至4位数字，如 C3841）")
        }
        guard let sec = section(ofDivision: division) else {
            return .invalid("大类 \(s.prefix(2)) 不存在于GB/T 4754-2017")
        }
        if let letter, letter != sec.letter {
            return .invalid("门类字母 \(letter) 与大类 \(s.prefix(2)) 不符（应为 \(sec.letter)）")
        }
        return .valid(String(sec.letter) + s)
    }

    /// 工业 = sections B, C, D (采矿业, 制造业, 电力热力燃气及水).
    public func isIndustrial(_ normalized: String) -> Bool {
        guard let f = normalized.first else { return false }
        return industrialSections.contains(f)
    }

    public func isHightech(_ normalized: String) -> Bool {
        hightechClasses.contains(String(normalized.dropFirst()))
    }
}

/// 报告期 and YYYYMM dates (FORMATS §2).
public enum PeriodText {
    /// `2023`, `2023年`, `2023-12`, `202312`, `2023年度` → 2023.
    public static func year(_ raw: String) -> Int? {
        let s = HeaderText.halfWidth(raw).trimmingCharacters(in: .whitespaces)
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard digits.count == 4 || digits.count == 6, let y = Int(digits.prefix(4)), (1990...2100).contains(y) else { return nil }
        let rest = s.dropFirst(digits.count)
        let ok = rest.isEmpty || rest == "年" || rest == "年度" || rest.first == "-" || rest.first == "/" || rest.first == "."
        return ok ? y : nil
    }

    /// `202203`, `2022-03`, `2022年3月`, `2022.03` → 202203; nil when not a valid month.
    public static func yearMonth(_ raw: String) -> Int? {
        // ASCII text (`202203`, `2023-08-15`, the shape of every registry's dates) is read from its bytes: the
        // general path below, with its half-width folding and split strings, was a third of the normalizing
        // thread's time on a 700,000-row registry load.
        if raw.utf8.allSatisfy({ $0 < 0x80 }) { return asciiYearMonth(raw.utf8) }
        let s = HeaderText.halfWidth(raw).trimmingCharacters(in: .whitespaces)
        let parts = s.split(whereSeparator: { !($0.isASCII && $0.isNumber) }).map(String.init)
        var y: Int?, m: Int?
        if parts.count == 1, parts[0].count == 6 {
            y = Int(parts[0].prefix(4)); m = Int(parts[0].suffix(2))
        } else if parts.count >= 2, parts[0].count == 4 {
            y = Int(parts[0]); m = Int(parts[1])
        }
        guard let y, let m, (1950...2100).contains(y), (1...12).contains(m) else { return nil }
        return y * 100 + m
    }

    /// The general rule over ASCII text's bytes (full-width digits, 年 and 月 take the general path): the digit runs,
    /// where one run of six digits is YYYYMM and a first run of four digits is the year with the second run as the
    /// month.
    private static func asciiYearMonth(_ u: String.UTF8View) -> Int? {
        var runs = 0, firstLength = 0, first = 0, second = 0, inRun = false
        for b in u {
            if b >= 0x30 && b <= 0x39 {
                if !inRun { runs += 1; inRun = true }
                let d = Int(b - 0x30)
                if runs == 1 {
                    firstLength += 1
                    if firstLength <= 6 { first = first * 10 + d }
                } else if runs == 2, second < 100 {
                    // Leading zeros keep a month valid (`2022-003` is March), so only significant digits count.
                    second = second * 10 + d
                }
            } else {
                inRun = false
            }
        }
        let y: Int, m: Int
        if runs == 1, firstLength == 6 {
            y = first / 100; m = first % 100
        } else if runs >= 2, firstLength == 4 {
            y = first; m = second
        } else {
            return nil
        }
        guard (1950...2100).contains(y), (1...12).contains(m) else { return nil }
        return y * 100 + m
    }
}

extension USCC {
    /// Builds a valid USCC from its parts: department+category (`91`), area (`330782`) and the 8-char body of
    /// the 组织机构代码; both check characters (GB 11714 inside, GB 32100 at the end) are computed.
    public static func make(category: String, area: String, orgBody: String) -> String? {
        let body = Array(orgBody.utf8)
        guard body.count == 8, let orgCheck = OrgCode.checkChar(body) else { return nil }
        return complete(category + area + orgBody + String(UnicodeScalar(orgCheck)))
    }
}
