/// JSON string quoting shared by every module that writes JSON by hand (`yingtong read`, the store's JSON
/// columns, SDMX observations): one escaping rule, so a name with a quote or a control character is valid JSON
/// wherever it ends up.
public enum JSONText {
    public static func quote(_ s: String, into out: inout String) {
        out += "\""
        // Most texts (field codes, numbers, Chinese names) need no escape: they are appended whole. A byte below
        // 0x80 never occurs inside a multi-byte UTF-8 sequence, so the bytes alone tell. Appending scalar by
        // scalar was a fifth of the rule stage's finding inserts.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out += s
            out += "\""
            return
        }
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    public static func quoted(_ s: String) -> String {
        var out = ""
        quote(s, into: &out)
        return out
    }
}
