import Foundation

/// Prints an expression back as rule-language text that parses to the same tree, with only the parentheses the
/// grammar needs: `lint` and error messages can show a rule as people write it, and the property tests check
/// `parse(print(e)) == e` for arbitrary trees.
///
/// ```swift
/// SyntaxPrinter.print(try Parser.parse("(a + b) * 2 >= c"))   // "(a + b) * 2 >= c"
/// ```
public enum SyntaxPrinter {
    /// Binding strength, lowest first, as in the grammar of `Parser`.
    private enum Level: Int, Comparable {
        case expression, or, and, not, comparison, sum, term, unary, postfix
        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    public static func print(_ e: Syntax) -> String { text(e, at: .expression) }

    private static func level(of e: Syntax) -> Level {
        switch e {
        case .ifThen: .expression
        case .binary(let op, _, _, _):
            switch op {
            case .or: .or
            case .and: .and
            case .eq, .ne, .lt, .le, .gt, .ge: .comparison
            case .add, .sub: .sum
            case .mul, .div: .term
            }
        case .not: .not
        case .inList: .comparison
        case .negate: .unary
        case .member, .number, .string, .bool, .null, .name, .call, .list: .postfix
        }
    }

    /// `e` printed where the grammar expects at least `context`; weaker expressions get parentheses.
    private static func text(_ e: Syntax, at context: Level) -> String {
        let body = bare(e)
        return level(of: e) < context ? "(\(body))" : body
    }

    private static func bare(_ e: Syntax) -> String {
        switch e {
        case .number(let d, _): return d.description
        case .string(let s, _): return quoted(s)
        case .bool(let b, _): return b ? "true" : "false"
        case .null: return "null"
        case .name(let n, _): return n
        case .member(let base, let n, _):
            // A member of a number literal needs parentheses: `1.5.x` would lex as one broken number.
            if case .number = base { return "(\(bare(base))).\(n)" }
            return "\(text(base, at: .postfix)).\(n)"
        case .negate(let x, _): return "-" + text(x, at: .unary)
        case .not(let x, _): return "not " + text(x, at: .not)
        case .binary(let op, let l, let r, _):
            let (left, right): (Level, Level)
            switch level(of: e) {
            case .or: (left, right) = (.or, .and)
            case .and: (left, right) = (.and, .not)
            case .comparison: (left, right) = (.sum, .sum)
            case .sum: (left, right) = (.sum, .term)
            default: (left, right) = (.term, .unary)
            }
            return "\(text(l, at: left)) \(op.rawValue) \(text(r, at: right))"
        case .inList(let x, let list, let negated, _):
            let target: String
            switch list {
            case .list, .name: target = bare(list)
            default: target = text(list, at: .postfix)
            }
            return "\(text(x, at: .sum)) \(negated ? "not in" : "in") \(target)"
        case .list(let items, _): return "[" + items.map { text($0, at: .expression) }.joined(separator: ", ") + "]"
        case .call(let f, let args, _): return f + "(" + args.map { text($0, at: .expression) }.joined(separator: ", ") + ")"
        case .ifThen(let c, let t, let otherwise, _):
            var s = "if \(text(c, at: .expression)) then "
            if let otherwise {
                // An `if` without `else` in the then-branch would take this `else` for itself.
                if case .ifThen = t { s += "(\(bare(t)))" } else { s += text(t, at: .expression) }
                s += " else \(text(otherwise, at: .expression))"
            } else {
                s += text(t, at: .expression)
            }
            return s
        }
    }

    /// A double-quoted literal the lexer reads back to `s`: backslash, quote, newline and tab escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
