import Foundation

/// Text clean-up shared by header matching and value parsing: full-width forms, brackets and units.
public enum HeaderText {
    /// Full-width ASCII (U+FF01…U+FF5E) to ASCII, ideographic space to space.
    public static func halfWidth(_ s: String) -> String {
        // Nearly every cell has no full-width character: answer without building a new string.
        if !s.utf8.contains(where: { $0 == 0xEF || $0 == 0xE3 }) { return s }
        var out = String.UnicodeScalarView()
        var changed = false
        for u in s.unicodeScalars {
            if u.value >= 0xFF01 && u.value <= 0xFF5E, let h = Unicode.Scalar(u.value - 0xFEE0) {
                out.append(h); changed = true
            } else if u.value == 0x3000 {
                out.append(" "); changed = true
            } else {
                out.append(u)
            }
        }
        return changed ? String(out) : s
    }

    /// A header label reduced for lookup: half-width, no spaces, no leading `*`, no trailing unit bracket.
    public static func normalizedLabel(_ label: String) -> String {
        var s = halfWidth(label)
        s.removeAll { $0 == " " || $0 == "\t" || $0 == "\u{a0}" }
        if let (base, _) = splitUnit(s) { s = base }
        while s.hasPrefix("*") { s.removeFirst() }
        return s
    }

    /// `研究开发费用合计(万元)` → (`研究开发费用合计`, `万元`). Brackets may be ASCII, full-width or 【】/[].
    public static func splitUnit(_ label: String) -> (String, String)? {
        let s = halfWidth(label).trimmingCharacters(in: .whitespaces)
        guard let last = s.last, ")]】".contains(last) else { return nil }
        let openers: [Character] = ["(", "[", "【"]
        guard let open = s.lastIndex(where: { openers.contains($0) }) else { return nil }
        let unit = String(s[s.index(after: open)..<s.index(before: s.endIndex)]).trimmingCharacters(in: .whitespaces)
        let base = String(s[..<open]).trimmingCharacters(in: .whitespaces)
        guard !base.isEmpty, !unit.isEmpty else { return nil }
        return (base, unit)
    }

    /// `其中：女性` → `女性`; `1.人员人工费用` → `人员人工费用`; `①委托境内研究机构` → `委托境内研究机构`.
    public static func strippingOrdinals(_ s: String) -> String {
        var t = Substring(s)
        for prefix in ["其中:", "其中：", "其中"] where t.hasPrefix(prefix) { t = t.dropFirst(prefix.count); break }
        while let c = t.first, c.isNumber || c == "." || c == "、" || ("①"..."⑳").contains(c) { t = t.dropFirst() }
        while t.hasPrefix("*") { t = t.dropFirst() }
        return t.isEmpty ? s : String(t)
    }
}
