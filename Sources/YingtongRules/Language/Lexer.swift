// The rule language is yingtong's own (GUIDE "Rules are data"), so its lexer is written by hand: a generated
// or regex-based scanner would not give the line-and-column errors in Chinese that a statistician needs.
import Foundation

/// A place in a rule file: 1-based line and column (columns count Unicode scalars, like libyaml).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public var description: String { "\(line):\(column)" }
}

/// A mistake in a rule: where it is and what is wrong, in Chinese, with a stable code.
public struct RuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `E-RULE-LEX`, `E-RULE-PARSE`, `E-RULE-TYPE`, `E-RULE-FIELD`, `E-RULE-PACK`…
    public var code: String
    public var file: String?
    public var location: SourceLocation?
    public var ruleID: String?
    public var messageZh: String

    public init(code: String, file: String? = nil, location: SourceLocation? = nil, ruleID: String? = nil,
                messageZh: String) {
        self.code = code
        self.file = file
        self.location = location
        self.ruleID = ruleID
        self.messageZh = messageZh
    }

    public var description: String {
        var s = ""
        if let file { s += file }
        if let location { s += (s.isEmpty ? "" : ":") + "\(location.line):\(location.column)" }
        if !s.isEmpty { s += ": " }
        if let ruleID { s += "规则 \(ruleID)：" }
        return s + "[\(code)] " + messageZh
    }
}

/// Every error this module throws is a `RuleError`; anything else (a Foundation error) is wrapped.
func asRuleError(_ e: any Error) -> RuleError {
    e as? RuleError ?? RuleError(code: "E-RULE-INTERNAL", messageZh: "\(e)")
}

enum Token: Equatable, Sendable {
    case number(Dec)
    case string(String)
    case ident(String)
    case keyword(String)   // and or not in if then else true false null
    case op(String)        // + - * / == != < <= > >= ( ) [ ] , .
    case end

    var display: String {
        switch self {
        case .number(let d): d.description
        case .string(let s): "\"\(s)\""
        case .ident(let s), .keyword(let s), .op(let s): s
        case .end: "表达式结尾"
        }
    }
}

struct Lexeme: Sendable {
    var token: Token
    var location: SourceLocation
}

/// Turns an expression's text into tokens. Accepts what people type: `=` for `==`, `≤ ≥ ≠`, `<>`, full-width
/// parentheses and commas, `且/或/非` are not accepted (keywords are English on purpose: one spelling).
struct Lexer {
    static let keywords: Set<String> = ["and", "or", "not", "in", "if", "then", "else", "true", "false", "null"]

    let scalars: [Unicode.Scalar]
    var i = 0
    var line: Int
    var column: Int
    /// Indentation of continuation lines in the file (a YAML block scalar strips it from the text).
    let indent: Int

    init(_ text: String, start: SourceLocation = SourceLocation(line: 1, column: 1), indent: Int = 0) {
        scalars = Array(text.unicodeScalars)
        line = start.line
        column = start.column
        self.indent = indent
    }

    mutating func tokens() throws -> [Lexeme] {
        var out: [Lexeme] = []
        while true {
            let lx = try next()
            out.append(lx)
            if lx.token == .end { return out }
        }
    }

    private func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < scalars.count ? scalars[i + k] : nil }

    private mutating func advance() {
        if scalars[i] == "\n" { line += 1; column = 1 + indent } else { column += 1 }
        i += 1
    }

    private func error(_ msg: String, at loc: SourceLocation) -> RuleError {
        RuleError(code: "E-RULE-LEX", location: loc, messageZh: msg)
    }

    mutating func next() throws -> Lexeme {
        while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{3000}" { advance() }
        // `#` starts a comment to the end of the line, as in YAML.
        if peek() == "#" {
            while let c = peek(), c != "\n" { _ = c; advance() }
            return try next()
        }
        let loc = SourceLocation(line: line, column: column)
        guard let c = peek() else { return Lexeme(token: .end, location: loc) }

        if Self.isDigit(c) || (c == "." && peek(1).map(Self.isDigit) == true) {
            var text = ""
            while let d = peek(), Self.isDigit(d) || d == "." || d == "_" {
                if d != "_" { text.unicodeScalars.append(d) }
                advance()
            }
            if let d = peek(), Self.isIdentStart(d) {
                throw error("数字 \(text) 后紧跟字母 \(d)：数字与名称之间需要运算符或空格", at: loc)
            }
            guard let v = Dec(text) else {
                throw error("无法识别的数字 \(text)（最多12位小数，不支持科学计数法）", at: loc)
            }
            return Lexeme(token: .number(v), location: loc)
        }
        if Self.isIdentStart(c) {
            var text = ""
            while let d = peek(), Self.isIdentStart(d) || Self.isDigit(d) { text.unicodeScalars.append(d); advance() }
            return Lexeme(token: Self.keywords.contains(text) ? .keyword(text) : .ident(text), location: loc)
        }
        if c == "\"" || c == "'" || c == "“" || c == "‘" {
            let close: Unicode.Scalar = c == "“" ? "”" : c == "‘" ? "’" : c
            advance()
            var text = ""
            while true {
                guard let d = peek(), d != "\n" else { throw error("字符串缺少结尾引号 \(close)", at: loc) }
                if d == close { advance(); break }
                if d == "\\", let e = peek(1) {
                    advance(); advance()
                    switch e {
                    case "n": text += "\n"
                    case "t": text += "\t"
                    default: text.unicodeScalars.append(e)
                    }
                    continue
                }
                text.unicodeScalars.append(d)
                advance()
            }
            return Lexeme(token: .string(text), location: loc)
        }
        let two = peek(1).map { String(c) + String($0) } ?? ""
        switch two {
        case "==", "!=", "<=", ">=":
            advance(); advance(); return Lexeme(token: .op(two), location: loc)
        case "<>":
            advance(); advance(); return Lexeme(token: .op("!="), location: loc)
        case "&&", "||":
            throw error("请用 and / or 代替 \(two)", at: loc)
        default: break
        }
        let single: String?
        switch c {
        case "+", "-", "*", "/", "<", ">", "(", ")", "[", "]", ",", ".": single = String(c)
        case "=": single = "=="
        case "≤": single = "<="
        case "≥": single = ">="
        case "≠": single = "!="
        case "×": single = "*"
        case "÷": single = "/"
        case "（": single = "("
        case "）": single = ")"
        case "，": single = ","
        default: single = nil
        }
        if let s = single {
            advance()
            return Lexeme(token: .op(s), location: loc)
        }
        throw error("无法识别的字符 “\(c)”", at: loc)
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
    static func isIdentStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }
}
