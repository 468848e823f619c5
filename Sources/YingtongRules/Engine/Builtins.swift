import Foundation
import YingtongModel

extension Compiler {
    /// Kernels of the built-in functions. Text functions that are costly per value (regular expressions)
    /// run once per distinct value of the batch: dates and codes repeat a lot.
    static func call(_ b: Builtin, _ args: [Typed], _ o: CompileOptions) -> Kernel {
        let ks = args.map { compile($0, o) }
        switch b {
        case .abs:
            return { f in
                var x = ks[0](f).asNum
                for i in 0..<x.v.count where x.v[i] < 0 { x.v[i] = 0 &- x.v[i] }
                return .num(x)
            }
        case .round:
            var d0 = 0
            if args.count == 2, case .constant(.number(let d?)) = fold(args[1]) { d0 = Int(d.raw / Dec.scale) }
            let digits = d0
            return { f in
                var x = ks[0](f).asNum
                for i in 0..<x.v.count where x.ok[i] { x.v[i] = Dec(raw: x.v[i]).rounded(digits: digits).raw }
                return .num(x)
            }
        case .min, .max, .sum:
            // Scalar forms: null if any argument is null (a bound over unknown values is unknown).
            return { f in
                var x = ks[0](f).asNum
                for k in ks.dropFirst() {
                    let y = k(f).asNum
                    for i in 0..<x.v.count {
                        guard x.ok[i] && y.ok[i] else { x.ok[i] = false; continue }
                        switch b {
                        case .min: x.v[i] = Swift.min(x.v[i], y.v[i])
                        case .max: x.v[i] = Swift.max(x.v[i], y.v[i])
                        default:
                            let (r, ov) = x.v[i].addingReportingOverflow(y.v[i])
                            x.v[i] = r; if ov { x.ok[i] = false }
                        }
                    }
                }
                return .num(x)
            }
        case .is_null:
            return { f in
                let x = ks[0](f)
                return .bool((0..<f.count).map { x.isNull($0) ? triTrue : triFalse })
            }
        case .coalesce:
            return { f in
                var out = ks[0](f)
                for k in ks.dropFirst() {
                    let y = k(f)
                    switch (out, y) {
                    case (.num(var a), .num(let c)):
                        for i in 0..<a.v.count where !a.ok[i] && c.ok[i] { a.v[i] = c.v[i]; a.ok[i] = true }
                        out = .num(a)
                    case (.text(var a), .text(let c)):
                        for i in 0..<a.count where a[i] == nil { a[i] = c[i] }
                        out = .text(a)
                    case (.bool(var a), .bool(let c)):
                        for i in 0..<a.count where a[i] == triUnknown { a[i] = c[i] }
                        out = .bool(a)
                    default:
                        // One side is the null literal (typed as a number): it contributes nothing.
                        if args[0].isNullConstant { out = y }
                    }
                }
                return out
            }
        case .matches:
            guard case .constant(.text(let pattern?)) = fold(args[1]),
                  let re = try? NSRegularExpression(pattern: pattern) else {
                return { f in Vec.constant(.bool(nil), count: f.count) }
            }
            let box = RegexBox(re)
            return textPredicate(ks[0]) { s in box.matches(s) }
        case .len:
            return textNumber(ks[0]) { Dec(units: $0.count) }
        case .latin_run:
            return textNumber(ks[0]) { s in
                var best = 0, run = 0
                for u in s.unicodeScalars {
                    let v = u.value
                    let latin = (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || (v >= 0xFF21 && v <= 0xFF3A) || (v >= 0xFF41 && v <= 0xFF5A)
                    run = latin ? run + 1 : 0
                    best = Swift.max(best, run)
                }
                return Dec(units: best)
            }
        case .number:
            return textNumber(ks[0], memoize: true) { s in NumberText.parse(s).flatMap { Dec(milli: $0) } }
        case .uscc_valid:
            return textPredicate(ks[0], memoize: false) { s in
                // Normalized input (the pipeline's) skips the costly normalisation.
                USCC.isValid(isCanonicalCode(s) ? s : USCC.normalize(s))
            }
        case .org_code_valid:
            return textPredicate(ks[0], memoize: false) { s in
                FastCodes.orgCodeValid(isCanonicalCode(s) ? s : USCC.normalize(s))
            }
        case .region_valid:
            return textPredicate(ks[0]) { RegionCode.isWellFormed($0) }
        case .industry_valid:
            return textPredicate(ks[0]) { s in
                if case .valid = IndustryClassification.standard.parse(s) { return true }
                return false
            }
        case .is_integral:
            return { f in
                let x = ks[0](f).asNum
                return .bool((0..<x.v.count).map { i in x.ok[i] ? (x.v[i] % Dec.scale == 0 ? triTrue : triFalse) : triUnknown })
            }
        case .contains:
            var constList: KeywordMatcher?
            if case .constant(.textList(let l)) = fold(args[1]) { constList = KeywordMatcher(l) }
            let list = constList
            return { f in
                let x = ks[0](f).asText
                let needles: [String?] = list == nil ? ks[1](f).asText : []
                return .bool((0..<x.count).map { i in
                    guard let s = x[i] else { return triUnknown }
                    if let list { return list.matches(s) ? triTrue : triFalse }
                    guard let n = needles[i] else { return triUnknown }
                    return utf8Contains(s, Array(n.utf8)) ? triTrue : triFalse
                })
            }
        case .months_between:
            return { f in
                let a = yearMonths(ks[0](f)), c = yearMonths(ks[1](f))
                var out = NumVec(count: a.count, constant: nil)
                for i in 0..<a.count {
                    if let p = a[i], let q = c[i] { out.v[i] = Int64(q - p) * Dec.scale; out.ok[i] = true }
                }
                return .num(out)
            }
        case .substr:
            return { f in
                let s = ks[0](f).asText, st = ks[1](f).asNum, ln = ks[2](f).asNum
                return .text((0..<s.count).map { i in
                    guard let t = s[i], st.ok[i], ln.ok[i] else { return nil }
                    let start = Int(st.v[i] / Dec.scale) - 1, len = Int(ln.v[i] / Dec.scale)
                    guard start >= 0, len >= 0 else { return "" }
                    // Codes are ASCII: slice bytes; otherwise count characters as people see them.
                    if let r = ByteText.withUTF8(t, { b -> String? in
                        guard b.allSatisfy({ $0 < 0x80 }) else { return nil }
                        guard start < b.count else { return "" }
                        return String(decoding: UnsafeBufferPointer(rebasing: b[start..<Swift.min(b.count, start + len)]), as: UTF8.self)
                    }) { return r }
                    let chars = Array(t)
                    guard start < chars.count else { return "" }
                    return String(chars[start..<Swift.min(chars.count, start + len)])
                })
            }
        }
    }

    /// Months since year 0 of a YYYYMM value (text or number); nil when it is not a valid month.
    static func yearMonths(_ v: Vec) -> [Int?] {
        func ym(_ n: Int) -> Int? {
            let y = n / 100, m = n % 100
            return (1900...2200).contains(y) && (1...12).contains(m) ? y * 12 + m - 1 : nil
        }
        switch v {
        case .num(let x):
            return (0..<x.v.count).map { i in x.ok[i] && x.v[i] % Dec.scale == 0 ? ym(Int(x.v[i] / Dec.scale)) : nil }
        case .text(let t):
            var memo: [String: Int?] = [:]
            return t.map { s in
                guard let s else { return nil }
                if let m = memo[s] { return m }
                let r = PeriodText.yearMonth(s).flatMap(ym)
                memo[s] = r
                return r
            }
        case .bool(let b): return b.map { _ in nil }
        }
    }

    /// `memoize`: for low-cardinality texts (codes, dates) each distinct value is tested once per batch; for
    /// unique ones (USCCs) the memo would only add hashing.
    static func textPredicate(_ k: @escaping Kernel, memoize: Bool = true, _ p: @escaping @Sendable (String) -> Bool) -> Kernel {
        return { f in
            let texts = k(f).asText
            guard memoize else { return .bool(texts.map { s in s.map { p($0) ? triTrue : triFalse } ?? triUnknown }) }
            var memo: [String: Tri] = [:]
            return .bool(texts.map { s in
                guard let s else { return triUnknown }
                if let m = memo[s] { return m }
                let r = p(s) ? triTrue : triFalse
                if memo.count < 4096 { memo[s] = r }
                return r
            })
        }
    }

    /// `memoize` for texts that repeat (YYYYMM dates in `number(start_ym)`): parse each distinct one once.
    static func textNumber(_ k: @escaping Kernel, memoize: Bool = false, _ p: @escaping @Sendable (String) -> Dec?) -> Kernel {
        return { f in
            let t = k(f).asText
            var out = NumVec(count: t.count, constant: nil)
            var memo: [String: Dec?] = [:]
            for i in 0..<t.count {
                guard let s = t[i] else { continue }
                let d: Dec?
                if memoize {
                    if let m = memo[s] { d = m } else { d = p(s); if memo.count < 4096 { memo[s] = d } }
                } else {
                    d = p(s)
                }
                if let d { out.v[i] = d.raw; out.ok[i] = true }
            }
            return .num(out)
        }
    }
}

/// The GB 11714 check on bytes, for the hot path. `YingtongModel.OrgCode` has the same arithmetic behind a
/// generic, non-inlinable signature (one call per record costs metadata look-ups across the module boundary); the
/// tests compare both on the DOMAIN §5 examples. The USCC check uses `USCC.problem`, which reads bytes in place.
enum FastCodes {
    static let orgWeights = [3, 7, 9, 10, 5, 8, 4, 2]

    /// A 9-character 组织机构代码 (with or without `-`), or the one inside an 18-character USCC.
    static func orgCodeValid(_ s: String) -> Bool {
        var code = Array(s.utf8)
        if code.count == 18 { code = Array(code[8..<17]) }
        code.removeAll { $0 == UInt8(ascii: "-") }
        guard code.count == 9 else { return false }
        var sum = 0
        for i in 0..<8 {
            let c = code[i]
            let v: Int
            if c >= 0x30 && c <= 0x39 { v = Int(c - 0x30) } else if c >= 0x41 && c <= 0x5A { v = Int(c) - 55 } else { return false }
            sum += v * orgWeights[i]
        }
        let c9 = 11 - sum % 11
        let check: UInt8 = c9 == 10 ? UInt8(ascii: "X") : c9 == 11 ? UInt8(ascii: "0") : UInt8(0x30 + c9)
        return check == code[8]
    }
}

/// Already upper-case ASCII letters and digits (what the pipeline's normalisation produces).
func isCanonicalCode(_ s: String) -> Bool {
    s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }
}

/// Does a text contain any of a fixed list of keywords? Keywords are indexed by their first byte, and only
/// character starts of the text are tried: one pass over the text instead of one per keyword.
struct KeywordMatcher: Sendable {
    let byFirst: [[[UInt8]]]

    init(_ keywords: [String]) {
        var t = [[[UInt8]]](repeating: [], count: 256)
        for k in keywords where !k.isEmpty {
            let b = Array(k.utf8)
            t[Int(b[0])].append(b)
        }
        byFirst = t
    }

    func matches(_ s: String) -> Bool { ByteText.withUTF8(s) { scan($0) } }

    private func scan(_ h: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = h.count
        var i = 0
        while i < n {
            let c = h[i]
            let candidates = byFirst[Int(c)]
            if !candidates.isEmpty {
                for k in candidates where k.count <= n - i {
                    var j = 1
                    while j < k.count && h[i + j] == k[j] { j += 1 }
                    if j == k.count { return true }
                }
            }
            // Next character start (UTF-8 lead bytes say how long a character is).
            i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4
        }
        return false
    }
}

/// Substring test on UTF-8 bytes. Foundation's `String.contains` goes through NSString and locale-aware
/// folding on Linux and cost a third of the whole catalogue's time; keywords match as exact text anyway.
/// (UTF-8 is self-synchronising, so a byte match of valid UTF-8 is a character match.)
func utf8Contains(_ s: String, _ needle: [UInt8]) -> Bool {
    if needle.isEmpty { return true }
    return ByteText.withUTF8(s) { h in
        let n = needle.count
        guard h.count >= n else { return false }
        let first = needle[0]
        var i = 0
        while i <= h.count - n {
            if h[i] == first {
                var j = 1
                while j < n && h[i + j] == needle[j] { j += 1 }
                if j == n { return true }
            }
            i += 1
        }
        return false
    }
}

/// NSRegularExpression is immutable once built and documented as thread-safe for matching.
final class RegexBox: @unchecked Sendable {
    let re: NSRegularExpression
    init(_ re: NSRegularExpression) { self.re = re }
    func matches(_ s: String) -> Bool {
        re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }
}
