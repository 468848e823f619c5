import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import PropertyBased
import YingtongModel
import YingtongIngest
import YingtongRules

/// Property-based tests (issue 8, point 2) with swift-property-based: the invariants hold for arbitrary inputs,
/// not only the hand-picked ones of the unit tests.
@Suite struct PropertyTests {
    // MARK: CSV write → read

    /// Characters a CSV field really meets: separators, quotes, line breaks, spaces, tabs, NUL, Chinese (common
    /// and CJK Extension B), full-width forms and emoji (in GB18030's four-byte range, not in GBK).
    static let fieldCharacter = choice(Array("aZ09 .-\t,,\"\"\n\r\u{0}研发费用统计，“”：（）ＡＢ１２😀🚀𠀀€"))

    static let field = fieldCharacter.string(of: 0...12)
    static let record = field.array(of: 1...6)
    static let table = record.array(of: 1...8)

    /// RFC 4180 as Excel writes it: quote a field holding a separator, quote or line break; double its quotes.
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    @Test func csvRecordsSurviveWriteThenReadInUTF8AndGB18030() async throws {
        await propertyCheck(count: 300, input: Self.table, Gen.bool, choice([1 << 20, 5, 61]), Gen.bool) {
            rows, useGB18030, chunk, crlf in
            let text = rows.map { $0.map(Self.csvField).joined(separator: ",") }.joined(separator: crlf ? "\r\n" : "\n") + "\n"
            let bytes = useGB18030 ? gb18030(text) : Array(text.utf8)
            let dir = temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let url = dir.appendingPathComponent("t.csv")
            try Data(bytes).write(to: url)
            let decoder = try StreamingDecoder(path: url.path, declared: useGB18030 ? "gb18030" : "auto", chunkSize: chunk)
            let scanner = CSVScanner(decoder: decoder)
            var read: [[String]] = []
            while let r = try scanner.next() {
                #expect(r.fault == nil, "\(r.fault.map { "\($0.code) \($0.messageZh)" } ?? "")")
                read.append((0..<r.cellCount).map(r.cellString))
            }
            #expect(read == rows)
            #expect(Int(scanner.physicalLines) == physicalLines(bytes))
        }
    }

    // MARK: Numbers and units

    static let milli = Gen<Int64>.value(in: -999_999_999_999_999...999_999_999_999_999).map { Milli(raw: $0) }

    /// A number as people type it: plain, with thousands separators, in full-width digits, padded with spaces.
    static func spellings(_ m: Milli) -> [String] {
        let plain = m.description
        let neg = plain.hasPrefix("-")
        let digits = neg ? String(plain.dropFirst()) : plain
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        var grouped = ""
        for (i, c) in parts[0].reversed().enumerated() {
            if i > 0 && i % 3 == 0 { grouped = "," + grouped }
            grouped = String(c) + grouped
        }
        let withCommas = (neg ? "-" : "") + grouped + (parts.count > 1 ? "." + parts[1] : "")
        let fullWidth = String(plain.unicodeScalars.map { c -> Character in
            switch c {
            case "0"..."9": Character(UnicodeScalar(c.value - 0x30 + 0xFF10)!)
            case ".": "．"
            case "-": "－"
            default: Character(c)
            }
        })
        return [plain, withCommas, fullWidth, "  \(plain) ", "\u{3000}\(plain)"]
    }

    @Test func numbersSurviveTheirSpellings() async {
        await propertyCheck(count: 500, input: Self.milli) { m in
            for text in Self.spellings(m) {
                #expect(NumberText.parse(text) == m, "“\(text)”")
            }
        }
    }

    @Test func moneyUnitsConvertExactlyOneWayAndBackWithinRounding() async throws {
        let units = FieldDictionary.standard.units
        let names = ["元", "千元", "万元", "亿元"]
        await propertyCheck(count: 500, input: Gen<Int64>.value(in: -9_000_000_000...9_000_000_000).map { Milli(raw: $0) },
                            choice(names), Gen<Int64>.value(in: 0...9_000_000)) { m, unit, delta in
            guard let f = units.factor(for: unit, type: .money), let canonical = m.scaled(by: f) else {
                Issue.record("\(unit) 无法换算 \(m)")
                return
            }
            // Parsing the value as typed and converting gives the same as converting the value.
            #expect(NumberText.parse(m.description).flatMap { $0.scaled(by: f) } == canonical)
            let back = canonical.scaled(by: UnitFactor(numerator: f.denominator, denominator: f.numerator))!
            if f.denominator == 1 {
                #expect(back == m, "\(m) \(unit) → \(canonical) 千元 → \(back)")
            } else {
                // 元 → 千元 rounds half away from zero to a thousandth of 千元 (one 元): never more than half off.
                #expect(abs(back.raw - m.raw) <= f.denominator / 2, "\(m) \(unit) → \(canonical) → \(back)")
            }
            // Conversion keeps order.
            let bigger = Milli(raw: m.raw + delta)
            #expect(bigger.scaled(by: f)! >= canonical)
        }
    }

    // MARK: USCC

    static let body17 = zip(choice(USCC.charset).array(of: 2),
                            choice(Array("0123456789".utf8)).array(of: 6),
                            choice(USCC.charset).array(of: 9))
        .map { a, b, c in String(decoding: a + b + c, as: UTF8.self) }

    @Test func usccCheckCharacterGeneratorAndValidatorAgree() async {
        await propertyCheck(count: 1000, input: Self.body17, Gen<Int>.value(in: 0...16), choice(USCC.charset)) {
            body, position, replacement in
            guard let code = USCC.complete(body) else { Issue.record("无法补全 \(body)"); return }
            #expect(USCC.isValid(code), "\(code)")
            #expect(USCC.normalize(code.lowercased()) == code)
            // Every other check character is refused as a check-character error.
            for c in USCC.charset where c != Array(code.utf8)[17] {
                let wrong = String(code.dropLast()) + String(UnicodeScalar(c))
                #expect(USCC.problem(wrong) == .checkChar, "\(wrong)")
            }
            // Any single substitution in the body is caught (weights are non-zero modulo the prime 31).
            var bytes = Array(code.utf8)
            guard bytes[position] != replacement, position >= 8 || position < 2 || (0x30...0x39).contains(replacement) else { return }
            bytes[position] = replacement
            #expect(!USCC.isValid(String(decoding: bytes, as: UTF8.self)))
        }
    }

    // MARK: Rule language printer ↔ parser

    static let names = ["a", "rd_exp_total", "x1", "projects", "_b", "rd_staff_total"]
    static let strings = ["", "文本", "带\"引号\"", "反斜杠\\", "换行\n", "制表\t", "回车\r", "😀", "#不是注释", "' ‘ “"]

    /// A random expression tree of at most `depth` levels, covering every node kind.
    static func syntax(_ rng: inout any SeededRandomNumberGenerator, depth: Int) -> Syntax {
        let loc = SourceLocation(line: 1, column: 1)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        func sub() -> Syntax { syntax(&rng, depth: depth - 1) }
        let leafKinds = 6
        let kind = depth <= 0 ? Int(rng.next() % UInt64(leafKinds)) : Int(rng.next() % 15)
        switch kind {
        case 0: return .number(Dec(raw: Int64(rng.next() % 1_000_000_000_000_000)), loc)
        case 1: return .string(pick(strings), loc)
        case 2: return .bool(rng.next() % 2 == 0, loc)
        case 3: return .null(loc)
        case 4, 5: return .name(pick(names), loc)
        case 6: return .member(sub(), pick(names), loc)
        case 7: return .negate(sub(), loc)
        case 8: return .not(sub(), loc)
        case 9, 10:
            let ops: [BinaryOperator] = [.add, .sub, .mul, .div, .eq, .ne, .lt, .le, .gt, .ge, .and, .or]
            return .binary(pick(ops), sub(), sub(), loc)
        case 11:
            let list: Syntax = rng.next() % 3 == 0 ? .name(pick(names), loc)
                : .list((0..<Int(rng.next() % 3)).map { _ in sub() }, loc)
            return .inList(sub(), list, negated: rng.next() % 2 == 0, loc)
        case 12: return .list((0..<Int(rng.next() % 4)).map { _ in sub() }, loc)
        case 13: return .call(pick(["sum", "abs", "coalesce", "is_null"]), (0..<Int(rng.next() % 3)).map { _ in sub() }, loc)
        default: return .ifThen(sub(), sub(), rng.next() % 2 == 0 ? sub() : nil, loc)
        }
    }

    static let trees = Generator<Syntax, Shrink.None<Syntax>>(run: { rng in syntax(&rng, depth: 5) })

    /// A fully parenthesized dump that ignores locations: the tree's shape, printed independently of the printer.
    static func shape(_ e: Syntax) -> String {
        switch e {
        case .number(let d, _): "n:\(d.raw)"
        case .string(let s, _): "s:\(s.debugDescription)"
        case .bool(let b, _): "b:\(b)"
        case .null: "null"
        case .name(let n, _): "id:\(n)"
        case .member(let b, let n, _): "(. \(shape(b)) \(n))"
        case .negate(let x, _): "(neg \(shape(x)))"
        case .not(let x, _): "(not \(shape(x)))"
        case .binary(let op, let l, let r, _): "(\(op.rawValue) \(shape(l)) \(shape(r)))"
        case .inList(let x, let l, let neg, _): "(\(neg ? "notin" : "in") \(shape(x)) \(shape(l)))"
        case .list(let xs, _): "[" + xs.map(shape).joined(separator: " ") + "]"
        case .call(let f, let xs, _): "(call \(f) " + xs.map(shape).joined(separator: " ") + ")"
        case .ifThen(let c, let t, let e, _): "(if \(shape(c)) \(shape(t)) \(e.map(shape) ?? "-"))"
        }
    }

    @Test func printedRulesParseBackToTheSameTree() async throws {
        await propertyCheck(count: 1000, input: Self.trees) { tree in
            let text = SyntaxPrinter.print(tree)
            do {
                let parsed = try Parser.parse(text)
                #expect(Self.shape(parsed) == Self.shape(tree), "\(text)")
            } catch {
                Issue.record("打印结果无法解析：\(text)：\(error)")
            }
        }
    }

    @Test func theCatalogueReadsTheSameAfterPrinting() throws {
        let pack = try RulePack.load(path: repositoryRoot.appendingPathComponent("pipelines/rules/rd-catalogue.yaml").path)
        #expect(pack.rules.count > 30)
        for rule in pack.rules {
            for text in [rule.check.text] + (rule.when.map { [$0.text] } ?? []) {
                let tree = try Parser.parse(text)
                let printed = SyntaxPrinter.print(tree)
                #expect(Self.shape(try Parser.parse(printed)) == Self.shape(tree), "\(rule.id): \(printed)")
            }
        }
    }
}

/// One of `xs`, shrinking towards the first.
func choice<T: Sendable>(_ xs: [T]) -> Generator<T, Shrink.Integer<Int>> {
    Gen.int(in: 0...(xs.count - 1)).map { xs[$0] }
}

/// Text as GB18030 bytes, through the system's iconv (the encoding Excel uses on a Chinese Windows).
func gb18030(_ s: String) -> [UInt8] {
    let cd = iconv_open("GB18030", "UTF-8")
    defer { iconv_close(cd) }
    var input = Array(s.utf8)
    var output = [UInt8](repeating: 0, count: input.count * 2 + 16)
    var inLeft = input.count, outLeft = output.count
    input.withUnsafeMutableBytes { ip in
        output.withUnsafeMutableBytes { op in
            var i: UnsafeMutablePointer<CChar>? = ip.baseAddress!.assumingMemoryBound(to: CChar.self)
            var o: UnsafeMutablePointer<CChar>? = op.baseAddress!.assumingMemoryBound(to: CChar.self)
            _ = iconv(cd, &i, &inLeft, &o, &outLeft)
        }
    }
    return Array(output.prefix(output.count - outLeft))
}
