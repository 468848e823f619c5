import Foundation

/// An expression as written, before types: what the parser hands the type checker.
public indirect enum Syntax: Sendable {
    case number(Dec, SourceLocation)
    case string(String, SourceLocation)
    case bool(Bool, SourceLocation)
    case null(SourceLocation)
    /// A field, a parameter, a derived name, or `projects`.
    case name(String, SourceLocation)
    /// `projects.person_months`
    case member(Syntax, String, SourceLocation)
    case negate(Syntax, SourceLocation)
    case not(Syntax, SourceLocation)
    case binary(BinaryOperator, Syntax, Syntax, SourceLocation)
    case inList(Syntax, Syntax, negated: Bool, SourceLocation)
    case list([Syntax], SourceLocation)
    case call(String, [Syntax], SourceLocation)
    case ifThen(Syntax, Syntax, Syntax?, SourceLocation)

    public var location: SourceLocation {
        switch self {
        case .number(_, let l), .string(_, let l), .bool(_, let l), .null(let l), .name(_, let l),
             .member(_, _, let l), .negate(_, let l), .not(_, let l), .binary(_, _, _, let l),
             .inList(_, _, _, let l), .list(_, let l), .call(_, _, let l), .ifThen(_, _, _, let l):
            l
        }
    }
}

public enum BinaryOperator: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/"
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case and, or

    var isComparison: Bool { [.eq, .ne, .lt, .le, .gt, .ge].contains(self) }
    var isArithmetic: Bool { [.add, .sub, .mul, .div].contains(self) }
}

/// Recursive descent over the grammar below (lowest precedence first). Comparisons do not chain:
/// `a < b < c` is an error, because it never means what a statistician intends.
///
/// ```
/// expr    := 'if' expr 'then' expr ['else' expr] | or
/// or      := and ('or' and)*
/// and     := not ('and' not)*
/// not     := 'not' not | cmp
/// cmp     := sum [(== != < <= > >=) sum | ['not'] 'in' (list | name)]
/// sum     := term (('+'|'-') term)*
/// term    := unary (('*'|'/') unary)*
/// unary   := '-' unary | postfix
/// postfix := primary ('.' name)*
/// primary := number | string | true | false | null | name ['(' args ')'] | '(' expr ')' | list
/// list    := '[' [expr (',' expr)*] ']'
/// ```
public struct Parser {
    var lexemes: [Lexeme]
    var p = 0
    /// How deep an expression may nest, in parse recursion and in tree depth. Rules are a line or two; the bound
    /// keeps a hostile or runaway rule file (`((((…` or `a+a+…` thousands long) from overflowing the stack of
    /// the parser, the type checker or the compiler, all of which recurse over the tree.
    public static let maxDepth = 200
    /// Open recursive calls (parentheses, lists, arguments, `not`, unary minus).
    var nesting = 0
    /// Depth of the tree the last parse function returned.
    var lastDepth = 0

    /// Parses `text`; `start` is where the text begins in its rule file, so errors point into the file.
    public static func parse(_ text: String, start: SourceLocation = SourceLocation(line: 1, column: 1),
                             indent: Int = 0) throws -> Syntax {
        var lexer = Lexer(text, start: start, indent: indent)
        var parser = Parser(lexemes: try lexer.tokens())
        if parser.lexemes.count == 1 {
            throw RuleError(code: "E-RULE-PARSE", location: start, messageZh: "表达式为空")
        }
        let e = try parser.expression()
        guard case .end = parser.current.token else {
            throw parser.error("表达式在此处应结束，却遇到 \(parser.current.token.display)")
        }
        return e
    }

    var current: Lexeme { lexemes[p] }

    mutating func enter() throws {
        nesting += 1
        if nesting > Self.maxDepth { throw error("表达式嵌套过深（超过 \(Self.maxDepth) 层）：请拆成几条规则或用 derive 定义中间量") }
    }

    /// Records the depth of a node built from children of depth `children`.
    mutating func node(over children: Int) throws {
        lastDepth = children + 1
        if lastDepth > Self.maxDepth { throw error("表达式嵌套过深（超过 \(Self.maxDepth) 层）：请拆成几条规则或用 derive 定义中间量") }
    }

    func error(_ msg: String) -> RuleError {
        RuleError(code: "E-RULE-PARSE", location: current.location, messageZh: msg)
    }

    mutating func take() -> Lexeme { let l = lexemes[p]; if p < lexemes.count - 1 { p += 1 }; return l }

    mutating func accept(op: String) -> Bool {
        if case .op(op) = current.token { p += 1; return true }
        return false
    }

    mutating func accept(keyword: String) -> Bool {
        if case .keyword(keyword) = current.token { p += 1; return true }
        return false
    }

    mutating func expect(op: String, _ what: String) throws {
        guard accept(op: op) else { throw error("此处应为 \(op)（\(what)），却遇到 \(current.token.display)") }
    }

    mutating func expression() throws -> Syntax {
        try enter()
        defer { nesting -= 1 }
        let loc = current.location
        if accept(keyword: "if") {
            let c = try expression()
            var d = lastDepth
            guard accept(keyword: "then") else { throw error("if 条件之后应为 then，却遇到 \(current.token.display)") }
            let t = try expression()
            d = max(d, lastDepth)
            let e = accept(keyword: "else") ? try expression() : nil
            if e != nil { d = max(d, lastDepth) }
            try node(over: d)
            return .ifThen(c, t, e, loc)
        }
        return try orExpr()
    }

    mutating func orExpr() throws -> Syntax {
        var l = try andExpr()
        var d = lastDepth
        while case .keyword("or") = current.token {
            let loc = take().location
            l = .binary(.or, l, try andExpr(), loc)
            try node(over: max(d, lastDepth))
            d = lastDepth
        }
        lastDepth = d
        return l
    }

    mutating func andExpr() throws -> Syntax {
        var l = try notExpr()
        var d = lastDepth
        while case .keyword("and") = current.token {
            let loc = take().location
            l = .binary(.and, l, try notExpr(), loc)
            try node(over: max(d, lastDepth))
            d = lastDepth
        }
        lastDepth = d
        return l
    }

    mutating func notExpr() throws -> Syntax {
        if case .keyword("not") = current.token {
            try enter()
            defer { nesting -= 1 }
            let loc = take().location
            let x = try notExpr()
            try node(over: lastDepth)
            return .not(x, loc)
        }
        return try comparison()
    }

    mutating func comparison() throws -> Syntax {
        let l = try sum()
        let dl = lastDepth
        if case .op(let o) = current.token, let op = BinaryOperator(rawValue: o), op.isComparison {
            let loc = take().location
            let r = try sum()
            try node(over: max(dl, lastDepth))
            if case .op(let o2) = current.token, let op2 = BinaryOperator(rawValue: o2), op2.isComparison {
                throw error("比较不能连写（\(o) 之后又有 \(o2)）：请用 and 连接两个比较")
            }
            return .binary(op, l, r, loc)
        }
        var negated = false
        if case .keyword("not") = current.token, case .keyword("in") = lexemes[min(p + 1, lexemes.count - 1)].token {
            p += 1
            negated = true
        }
        if case .keyword("in") = current.token {
            let loc = take().location
            let r: Syntax
            if case .op("[") = current.token { r = try primary() } else {
                guard case .ident(let n) = current.token else {
                    throw error("in 之后应为列表 [ … ] 或列表参数名，却遇到 \(current.token.display)")
                }
                r = .name(n, take().location)
                lastDepth = 1
            }
            try node(over: max(dl, lastDepth))
            return .inList(l, r, negated: negated, loc)
        }
        return l
    }

    mutating func sum() throws -> Syntax {
        var l = try term()
        var d = lastDepth
        while case .op(let o) = current.token, o == "+" || o == "-" {
            let loc = take().location
            l = .binary(o == "+" ? .add : .sub, l, try term(), loc)
            try node(over: max(d, lastDepth))
            d = lastDepth
        }
        lastDepth = d
        return l
    }

    mutating func term() throws -> Syntax {
        var l = try unary()
        var d = lastDepth
        while case .op(let o) = current.token, o == "*" || o == "/" {
            let loc = take().location
            l = .binary(o == "*" ? .mul : .div, l, try unary(), loc)
            try node(over: max(d, lastDepth))
            d = lastDepth
        }
        lastDepth = d
        return l
    }

    mutating func unary() throws -> Syntax {
        if case .op("-") = current.token {
            try enter()
            defer { nesting -= 1 }
            let loc = take().location
            let x = try unary()
            try node(over: lastDepth)
            return .negate(x, loc)
        }
        if case .op("+") = current.token {
            try enter()
            defer { nesting -= 1 }
            p += 1
            return try unary()
        }
        return try postfix()
    }

    mutating func postfix() throws -> Syntax {
        var e = try primary()
        while case .op(".") = current.token {
            let loc = take().location
            guard case .ident(let n) = current.token else { throw error(". 之后应为字段名，却遇到 \(current.token.display)") }
            p += 1
            e = .member(e, n, loc)
            try node(over: lastDepth)
        }
        return e
    }

    mutating func primary() throws -> Syntax {
        let lx = current
        lastDepth = 1
        switch lx.token {
        case .number(let d): p += 1; return .number(d, lx.location)
        case .string(let s): p += 1; return .string(s, lx.location)
        case .keyword("true"): p += 1; return .bool(true, lx.location)
        case .keyword("false"): p += 1; return .bool(false, lx.location)
        case .keyword("null"): p += 1; return .null(lx.location)
        case .ident(let n):
            p += 1
            if accept(op: "(") {
                var args: [Syntax] = []
                var d = 0
                if !accept(op: ")") {
                    repeat { args.append(try expression()); d = max(d, lastDepth) } while accept(op: ",")
                    try expect(op: ")", "函数 \(n) 的参数结束")
                }
                try node(over: d)
                return .call(n, args, lx.location)
            }
            return .name(n, lx.location)
        case .op("("):
            p += 1
            let e = try expression()
            try expect(op: ")", "与第 \(lx.location.line) 行第 \(lx.location.column) 列的 ( 配对")
            return e
        case .op("["):
            p += 1
            var items: [Syntax] = []
            var d = 0
            if !accept(op: "]") {
                repeat { items.append(try expression()); d = max(d, lastDepth) } while accept(op: ",")
                try expect(op: "]", "列表结束")
            }
            try node(over: d)
            return .list(items, lx.location)
        case .end:
            throw error("表达式不完整：此处还应有一个值")
        default:
            throw error("此处应为一个值（数字、字段名、函数或括号），却遇到 \(lx.token.display)")
        }
    }
}
