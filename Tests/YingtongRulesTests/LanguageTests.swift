import Foundation
import Testing
import YingtongModel
@testable import YingtongRules

/// Type-checks `text` against the standard dictionary in enterprise scope.
func typed(_ text: String, params: [String: Constant] = [:], scope: RowScope = .enterprise) throws -> Typed {
    var env = NameEnvironment()
    env.params = params
    let tc = TypeChecker(dictionary: .standard, env: env, scope: scope)
    return try tc.infer(Parser.parse(text))
}

func ruleError(_ body: () throws -> Void) -> RuleError? {
    do { try body() } catch let e as RuleError { return e } catch { return nil }
    return nil
}

@Suite struct LexerParserTests {
    @Test func errorsCarryLineAndColumn() {
        let e = ruleError { _ = try Parser.parse("rd_exp_total >= \n  (rd_exp_labor + ") }
        #expect(e?.code == "E-RULE-PARSE")
        #expect(e?.location == SourceLocation(line: 2, column: 19))
        let bad = ruleError { _ = try Parser.parse("a ≥ b $ c") }
        #expect(bad?.code == "E-RULE-LEX")
        #expect(bad?.location == SourceLocation(line: 1, column: 7))
        #expect(bad?.messageZh.contains("$") == true)
    }

    @Test func locationsAreOffsetIntoTheRuleFile() {
        let e = ruleError { _ = try Parser.parse("a +\nb )", start: SourceLocation(line: 40, column: 12), indent: 6) }
        #expect(e?.location == SourceLocation(line: 41, column: 9))
    }

    @Test func comparisonsDoNotChainAndStringsMustClose() {
        #expect(ruleError { _ = try Parser.parse("0 < a < 10") }?.messageZh.contains("不能连写") == true)
        #expect(ruleError { _ = try Parser.parse("matches(name, \"abc)") }?.messageZh.contains("引号") == true)
        #expect(ruleError { _ = try Parser.parse("if a > 0 a") }?.messageZh.contains("then") == true)
        #expect(ruleError { _ = try Parser.parse("") }?.messageZh == "表达式为空")
    }

    @Test func precedenceAndWhatPeopleType() throws {
        // `=` means `==`, full-width parentheses and ≤ are accepted; and binds tighter than or.
        let t = try typed("rd_exp_total = 1 or rd_exp_total ≤ 2 and （rd_exp_total > 3）")
        guard case .or(.compare(.eq, _, _), .and(.compare(.le, _, _), .compare(.gt, _, _))) = t else {
            Issue.record("\(t)")
            return
        }
        guard case .arith(.add, .constant, .arith(.mul, _, _)) = try typed("1 + 2 * rd_exp_total") else {
            Issue.record("乘法应先于加法")
            return
        }
    }
}

@Suite struct TypeCheckerTests {
    @Test func unknownFieldNamesTheClosestOne() {
        let e = ruleError { _ = try typed("rd_exp_totl >= 0") }
        #expect(e?.code == "E-RULE-FIELD")
        #expect(e?.messageZh.contains("rd_exp_total") == true)
        #expect(e?.location == SourceLocation(line: 1, column: 1))
        let f = ruleError { _ = try typed("sum(projects.person_month) > 0") }
        #expect(f?.messageZh.contains("person_months") == true)
        let g = ruleError { _ = try typed("uscc_vaild(uscc)") }
        #expect(g?.code == "E-RULE-FUNC")
        #expect(g?.messageZh.contains("uscc_valid") == true)
    }

    @Test func typeErrorsSayWhatWasExpected() {
        let e = ruleError { _ = try typed("rd_exp_total + uscc > 0") }
        #expect(e?.code == "E-RULE-TYPE")
        #expect(e?.messageZh.contains("数值") == true)
        #expect(e?.location == SourceLocation(line: 1, column: 16))
        #expect(ruleError { _ = try typed("uscc < \"9\"") }?.code == "E-RULE-TYPE")
        #expect(ruleError { _ = try typed("rd_exp_total == null") }?.messageZh.contains("is_null") == true)
        #expect(ruleError { _ = try typed("if rd_exp_total > 0 then 1 else \"x\"") }?.code == "E-RULE-TYPE")
        #expect(ruleError { _ = try typed("round(rd_exp_total, rd_exp_labor)") }?.code == "E-RULE-TYPE")
        #expect(ruleError { _ = try typed("matches(uscc, \"[\")") }?.code == "E-RULE-REGEX")
    }

    @Test func projectFieldsNeedAnAggregateOrProjectScope() throws {
        let e = ruleError { _ = try typed("person_months > 0") }
        #expect(e?.code == "E-RULE-SCOPE")
        #expect(e?.messageZh.contains("sum(projects.person_months)") == true)
        _ = try typed("person_months <= 12 * staff and rd_staff_total > 0", scope: .project)
        #expect(ruleError { _ = try typed("revenue > 0") }?.messageZh.contains("lookup(roster, revenue)") == true)
        #expect(ruleError { _ = try typed("prev(project_name) > 0") }?.code == "E-RULE-TYPE")
    }
}

/// Evaluates `check` over one enterprise built from `values` (and its projects).
func evaluate(_ check: String, _ values: [String: String], projects: [[String: String]] = [], onMissing: String = "skip",
              tolerance: String? = nil) throws -> (RuleCounts, [Violation]) {
    let yaml = """
    rules:
      - id: T1
        severity: error
        level: 1
        check: '\(check.replacingOccurrences(of: "'", with: "''"))'
        on_missing: \(onMissing)
    \(tolerance.map { "    tolerance: \($0)\n" } ?? "")    message_zh: 测试
    """
    let engine = try RuleEngine(pack: RulePack.parse(yaml: yaml))
    var v = values
    v["uscc"] = v["uscc"] ?? Baseline.uscc
    let r = engine.evaluate(Build.batch([(v, projects)]))
    return (r.summary["T1"]!, r.violations)
}

@Suite struct ThreeValuedTests {
    @Test func aCheckOverAMissingValueIsNotApplicableNeverAPass() throws {
        let (c, v) = try evaluate("rd_exp_total >= rd_exp_labor", ["rd_exp_total": "10"])
        #expect(c.notApplicable == 1 && c.passed == 0 && c.failed == 0 && v.isEmpty)
        #expect(c.reasons["缺少 rd_exp_labor"] == 1)
    }

    @Test func kleeneAndOrDecideWhenTheyCan() throws {
        // false and unknown = false: the finding stands even with a blank field.
        #expect(try evaluate("rd_exp_total > 100 and rd_exp_labor > 0", ["rd_exp_total": "5"]).0.failed == 1)
        // true or unknown = true
        #expect(try evaluate("rd_exp_total > 1 or rd_exp_labor > 0", ["rd_exp_total": "5"]).0.passed == 1)
        // not unknown = unknown
        #expect(try evaluate("not (rd_exp_labor > 0)", [:]).0.notApplicable == 1)
        #expect(try evaluate("is_null(rd_exp_labor)", [:]).0.passed == 1)
        #expect(try evaluate("coalesce(rd_exp_labor, 0) == 0", [:]).0.passed == 1)
    }

    @Test func onMissingFailAndZero() throws {
        #expect(try evaluate("rd_exp_labor >= 0", [:], onMissing: "fail").0.failed == 1)
        #expect(try evaluate("rd_exp_total == rd_exp_labor + rd_exp_direct", ["rd_exp_total": "7", "rd_exp_labor": "7"],
                             onMissing: "zero").0.passed == 1)
    }

    @Test func divisionByZeroIsNotApplicable() throws {
        let (c, _) = try evaluate("rd_exp_labor / rd_staff_total < 100", ["rd_exp_labor": "10", "rd_staff_total": "0"])
        #expect(c.notApplicable == 1)
    }

    @Test func aggregatesOverProjects() throws {
        let p = [["project_name": "甲", "person_months": "30", "exp": "10"], ["project_name": "乙", "person_months": "", "exp": "5"]]
        #expect(try evaluate("sum(projects.exp) == 15", [:], projects: p).0.passed == 1)
        #expect(try evaluate("count(projects) == 2", [:], projects: p).0.passed == 1)
        #expect(try evaluate("sum(projects.person_months) > 0", [:], projects: p).0.notApplicable == 1)
        #expect(try evaluate("any(projects, person_months > 20)", [:], projects: p).0.passed == 1)
        #expect(try evaluate("all(projects, person_months > 20)", [:], projects: p).0.notApplicable == 1)
        #expect(try evaluate("all(projects, exp > 20)", [:], projects: p).0.failed == 1)
        #expect(try evaluate("count(projects) == 0 and sum(projects.exp) == 0", [:]).0.passed == 1)
        #expect(try evaluate("max(projects.exp) == 10 and min(projects.exp) == 5", [:], projects: p).0.passed == 1)
    }
}

@Suite struct ExactArithmeticTests {
    @Test func moneyIsExactToTheYuan() throws {
        // 0.1 + 0.2 == 0.3 in 千元: binary floating point would say no.
        #expect(try evaluate("rd_exp_labor + rd_exp_direct == 0.3", ["rd_exp_labor": "0.1", "rd_exp_direct": "0.2"]).0.passed == 1)
        // 10 million 千元 plus 1 元 stays distinguishable.
        #expect(try evaluate("rd_exp_total - rd_exp_labor == 0.001", ["rd_exp_total": "10000000.001", "rd_exp_labor": "10000000"]).0.passed == 1)
    }

    @Test func decArithmetic() {
        #expect(Dec("1.05")! == Dec(raw: 1_050_000))
        #expect(Dec.multiplying(Dec("4800")!, Dec("0.25")!) == Dec(units: 1200))
        #expect(Dec.dividing(Dec(units: 1), Dec(units: 3))?.description == "0.333333")
        #expect(Dec.dividing(Dec(units: 2), Dec(units: 3))?.description == "0.666667")
        #expect(Dec.dividing(Dec(units: 1), Dec(units: 0)) == nil)
        #expect(Dec.multiplying(Dec(units: 9_000_000_000), Dec(units: 9_000_000_000)) == nil)
        #expect(Dec("-0.00125")!.description == "-0.00125")
        #expect(Dec("2.5")!.rounded(digits: 0) == Dec(units: 3))
        #expect(Dec("-2.5")!.rounded(digits: 0) == Dec(units: -3))
        #expect(Dec("1.0000005") == nil)   // more digits than the type holds: refused, not rounded silently
        // half to even at the sixth digit
        #expect(Dec.dividing(Dec(raw: 1), Dec(units: 2)) == Dec(raw: 0))
        #expect(Dec.dividing(Dec(raw: 3), Dec(units: 2)) == Dec(raw: 2))
    }

    @Test func toleranceAppliesToEveryComparisonOfTheCheck() throws {
        let v = ["rd_exp_total": "100", "rd_exp_labor": "101"]
        #expect(try evaluate("rd_exp_total == rd_exp_labor", v, tolerance: "1").0.passed == 1)
        #expect(try evaluate("rd_exp_total >= rd_exp_labor", v, tolerance: "1").0.passed == 1)
        #expect(try evaluate("rd_exp_total >= rd_exp_labor", v, tolerance: "0.999").0.failed == 1)
    }

    @Test func balanceViolationsCarryExpectedAndImbalance() throws {
        let (_, v) = try evaluate("rd_exp_total == rd_exp_labor + rd_exp_direct",
                                  ["rd_exp_total": "100", "rd_exp_labor": "60.5", "rd_exp_direct": "30"])
        #expect(v.count == 1)
        #expect(v.first?.imbalance == "9.5")
        #expect(v.first?.expected == "== 90.5")
        #expect(v.first?.observed == "rd_exp_total=100, rd_exp_labor=60.5, rd_exp_direct=30")
        #expect(v.first?.line == 2)
    }
}

@Suite struct FunctionTests {
    @Test func codeValidatorsAndText() throws {
        #expect(try evaluate("uscc_valid(uscc) and org_code_valid(uscc)", [:]).0.passed == 1)
        #expect(try evaluate("uscc_valid(uscc)", ["uscc": "91350203M0001QAY9B"]).0.failed == 1)
        #expect(try evaluate("industry_valid(industry_code) and region_valid(region_code)", [:]).0.passed == 1)
        #expect(try evaluate("substr(uscc, 3, 6) == \"330782\" and len(uscc) == 18", [:]).0.passed == 1)
        #expect(try evaluate("months_between(\"202211\", \"202302\") == 3", [:]).0.passed == 1)
        #expect(try evaluate("months_between(\"202213\", \"202302\") == 3", [:]).0.notApplicable == 1)
        #expect(try evaluate("number(\"1,234.5\") == 1234.5 and round(2.345, 2) == 2.35 and abs(-3) == 3", [:]).0.passed == 1)
        #expect(try evaluate("min(1, 2, 3) == 1 and max(1, 2, 3) == 3 and sum(1, 2, 3) == 6", [:]).0.passed == 1)
        #expect(try evaluate("(if rd_exp_total > 10 then rd_exp_total * 2 else 0) == 40", ["rd_exp_total": "20"]).0.passed == 1)
        #expect(try evaluate("period in [2022, 2023] and region_code not in [\"330783\"]", [:]).0.passed == 1)
    }

    @Test func constantFoldingUsesTheSameKernels() {
        guard case .constant(.bool(true)) = Compiler.fold(try! typed("1 + 2 * 3 == 7 and not (1 > 2)")) else {
            Issue.record("常量未化简")
            return
        }
        guard case .constant(.number(let d)) = Compiler.fold(try! typed("1 / 0")), d == nil else {
            Issue.record("1/0 应为空")
            return
        }
    }
}

@Suite struct FastCodeTests {
    @Test(arguments: ["91330782MA2A7K5N23", "91330783147258364P", "52330782MJ9B2C3D5X", "91330782MA2A7K5N24",
                      "91330782MA2A7K5NZ3", "91350203M0001QAY9B", "9133078", "", "91330782MA2A7K5N36"])
    func fastChecksAgreeWithTheModel(_ s: String) {
        let embedded = s.utf8.count == 18 ? USCC.embeddedOrgCode(s).map(OrgCode.isValid) ?? false : OrgCode.isValid(s)
        #expect(FastCodes.orgCodeValid(s) == embedded)
    }

    @Test func orgCodeExamples() {
        #expect(FastCodes.orgCodeValid("MA2A7K5N-2") && FastCodes.orgCodeValid("14725836-4") && FastCodes.orgCodeValid("MJ9B2C3D-5"))
        #expect(!FastCodes.orgCodeValid("MA2A7K5N-3"))
    }
}

@Suite struct HostileInputTests {
    @Test func extremeValuesAreNotApplicableNotATrap() throws {
        // 9.3e12 千元 is outside the language's range: the value reads as null.
        #expect(try evaluate("rd_exp_total >= 0", ["rd_exp_total": "9300000000000"]).0.notApplicable == 1)
        let big = ["rd_exp_total": "9000000000000", "rd_exp_labor": "-9000000000000"]
        #expect(try evaluate("rd_exp_total == rd_exp_labor", big, tolerance: "1").0.failed == 1)
        #expect(try evaluate("rd_exp_total >= rd_exp_labor", big, tolerance: "1").0.passed == 1)
        #expect(try evaluate("rd_exp_total * rd_exp_total > 0", big).0.notApplicable == 1)
        #expect(try evaluate("rd_exp_total + rd_exp_total > 0", big).0.notApplicable == 1)
    }

    @Test func oddTextDoesNotBreakTextFunctions() throws {
        let v = ["industry_code": "ｃ３８４１", "region_code": "３３０７８２"]
        #expect(try evaluate("industry_valid(industry_code)", v).0.passed == 1)
        #expect(try evaluate("substr(region_code, 5, 100) == \"８２\" and substr(region_code, 9, 2) == \"\"", v).0.passed == 1)
        #expect(try evaluate("len(\"\") == 0 and months_between(\"\", \"x\") > 0", [:]).0.notApplicable == 1)
    }
}

@Suite struct KeywordMatcherTests {
    @Test func matchesAtCharacterStartsOnly() {
        let m = KeywordMatcher(["技改", "生产线", "PLC", "推广"])
        #expect(m.matches("年产5万台伺服电机技改项目"))
        #expect(m.matches("智能生产线调度"))
        #expect(m.matches("基于PLC的控制"))
        #expect(!m.matches("高精度伺服阀芯加工工艺研究"))
        #expect(!m.matches(""))
        #expect(!m.matches("PL"))
        // Every listed keyword agrees with a plain substring search on these names.
        for name in ["新产品推广示范", "技术改造", "AI算法", "推", "生产"] {
            #expect(m.matches(name) == ["技改", "生产线", "PLC", "推广"].contains { name.contains($0) })
        }
    }
}
