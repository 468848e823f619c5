import Foundation
import Testing
import YingtongModel
@testable import YingtongRules

func casePath(_ name: String) -> String {
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Cases/packs")?.path ?? name
}

@Suite struct RulePackTests {
    @Test func includesResolveOnceAndTheHashCoversEveryFile() throws {
        let p = try RulePack.load(path: casePath("top.yaml"))
        #expect(p.name == "county-top" && p.version == "7")
        #expect(p.rules.map(\.id) == ["A1", "B1"])   // b.yaml included twice, loaded once
        #expect(p.files.count == 3)
        #expect(p.sha256.count == 64 && p.sha256.allSatisfy(\.isHexDigit))
        let again = try RulePack.load(path: casePath("top.yaml"))
        #expect(again.sha256 == p.sha256)
        let catalogueHash = catalogue.sha256
        #expect(catalogueHash != p.sha256)
    }

    @Test func sha256IsTheStandardOne() {
        #expect(sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func includeCyclesAreRefused() {
        let e = ruleError { _ = try RulePack.load(path: casePath("cycle1.yaml")) }
        #expect(e?.code == "E-RULE-INCLUDE")
    }

    @Test func expressionErrorsPointIntoTheYAMLFile() {
        let yaml = """
        rules:
          - id: X1
            severity: error
            level: 1
            check: rd_exp_total >= rd_exp_labr
            message_zh: 测试
          - id: X2
            severity: error
            level: 1
            check: |
              rd_exp_total >=
                rd_exp_labor +* 2
            message_zh: 测试
        """
        let e1 = ruleError { _ = try RuleEngine(pack: RulePack.parse(yaml: yaml, file: "x.yaml")) }
        #expect(e1?.description.hasPrefix("x.yaml:5:28: 规则 X1：[E-RULE-FIELD]") == true, "\(String(describing: e1))")
        #expect(e1?.messageZh.contains("rd_exp_labor") == true)
        let findings = Lint.run(try! RulePack.parse(yaml: yaml, file: "x.yaml"))
        let x2 = findings.first { $0.ruleID == "X2" }
        #expect(x2?.location == SourceLocation(line: 12, column: 23), "\(String(describing: x2))")
    }

    @Test func badPackShapesAreExplained() {
        #expect(ruleError { _ = try RulePack.parse(yaml: "rules:\n  - id: X\n    severity: fatal\n    level: 1\n    check: true\n    message_zh: m") }?
            .messageZh.contains("severity") == true)
        #expect(ruleError { _ = try RulePack.parse(yaml: "rules:\n  - id: X\n    severity: error\n    level: 9\n    check: true\n    message_zh: m") }?
            .messageZh.contains("level") == true)
        let typo = ruleError { _ = try RulePack.parse(yaml: "rules:\n  - id: X\n    severity: error\n    level: 1\n    chek: true\n    message_zh: m") }
        #expect(typo?.messageZh.contains("check") == true)
        #expect(ruleError { _ = try RulePack.parse(yaml: "rules: [") }?.code == "E-RULE-YAML")
    }
}

@Suite struct LintTests {
    func lint(_ rules: String, extra: String = "") throws -> [LintFinding] {
        Lint.run(try RulePack.parse(yaml: extra + "rules:\n" + rules, file: "l.yaml"))
    }

    @Test func duplicateIdsUnknownFieldsAndPlaceholders() throws {
        let f = try lint("""
          - {id: D1, severity: error, level: 1, check: rd_exp_total >= 0, message_zh: "合计 {rd_exp_total}"}
          - {id: D1, severity: error, level: 1, check: rd_exp_total >= 0, message_zh: m}
          - {id: D2, severity: error, level: 1, check: rd_staff_totl >= 0, message_zh: m}
          - {id: D3, severity: error, level: 1, check: rd_exp_total >= 0, message_zh: "合计 {rd_exp_totl} {tolerance_x}"}
        """)
        #expect(f.contains { $0.code == "E-RULE-DUPLICATE" && $0.ruleID == "D1" })
        #expect(f.contains { $0.code == "E-RULE-FIELD" && $0.ruleID == "D2" && $0.messageZh.contains("rd_staff_total") })
        #expect(f.contains { $0.code == "E-RULE-MESSAGE" && $0.ruleID == "D3" && $0.messageZh.contains("rd_exp_total") })
        #expect(!f.contains { $0.ruleID == "D1" && $0.code == "E-RULE-MESSAGE" })
    }

    @Test func whenThatCanNeverHold() throws {
        let f = try lint("""
          - {id: W1, severity: warning, level: 1, when: "max_staff < 0 and rd_staff_total > 0", check: rd_exp_labor > 0, message_zh: m}
          - {id: W2, severity: warning, level: 1, when: "rd_staff_total > 0", check: rd_exp_labor > 0, message_zh: m}
          - {id: W3, severity: warning, level: 1, check: "1 > 2", message_zh: m}
        """, extra: "params: {max_staff: 5}\n")
        #expect(f.contains { $0.code == "L-WHEN-NEVER" && $0.ruleID == "W1" })
        #expect(!f.contains { $0.ruleID == "W2" })
        #expect(f.contains { $0.code == "L-CHECK-CONSTANT" && $0.ruleID == "W3" })
    }

    @Test func contradictingBalancePairs() throws {
        let f = try lint("""
          - {id: B1, severity: error, level: 1, check: "rd_exp_outsourced == rd_exp_out_research_inst + rd_exp_out_university + rd_exp_out_enterprise + rd_exp_out_overseas", message_zh: m}
          - {id: B2, severity: error, level: 1, check: "rd_exp_outsourced == rd_exp_out_research_inst + rd_exp_out_university", message_zh: m}
          - {id: B3, severity: warning, level: 1, check: "rd_fund_self + rd_fund_government == rd_exp_total", message_zh: m}
        """)
        let conflict = f.first { $0.code == "L-BALANCE-CONFLICT" }
        #expect(conflict?.messageZh.contains("rd_exp_out_enterprise+rd_exp_out_overseas = 0") == true, "\(f)")
        // B2 also disagrees with fields.yaml's components of rd_exp_outsourced.
        #expect(f.contains { $0.code == "L-BALANCE-DICTIONARY" && $0.ruleID == "B2" })
        // A different breakdown of the same total (sources of funds) is not a contradiction.
        #expect(!f.contains { $0.ruleID == "B3" })
    }

    @Test func parametersThatShadowFields() throws {
        let f = try lint("  - {id: P1, severity: info, level: 1, check: rd_exp_total >= 0, params: {rd_exp_total: 1}, message_zh: m}\n")
        #expect(f.contains { $0.code == "L-PARAM-SHADOWS" })
    }
}

@Suite struct GroupRuleTests {
    static let pack = """
    rules:
      - id: G-UNIQUE
        severity: error
        level: 1
        group_by: [uscc, period, project_name]
        check: count() == 1
        message_zh: 项目“{project_name}”重复 {rows} 次
      - id: G-REGION
        severity: warning
        level: 3
        group_by: [region_code, period]
        check: sum(rd_exp_total) <= region_cap and count() >= 2
        params: {region_cap: 10000}
        message_zh: 地区 {region_code} 研发费用合计异常
    """

    @Test func uniquenessAndPerRegionTotalsStreamAcrossBatches() throws {
        let engine = try RuleEngine(pack: RulePack.parse(yaml: Self.pack))
        var state = engine.makeGroupState()
        let p = [["project_name": "甲"], ["project_name": "乙"]]
        let dup = [["project_name": "甲"], ["project_name": "甲"]]
        let other = "91330783147258364P"
        _ = engine.evaluate(Build.batch([(["rd_exp_total": "6000"], p)]), groups: &state)
        _ = engine.evaluate(Build.batch([(["uscc": other, "region_code": "330783", "rd_exp_total": "100"], dup),
                                         (["uscc": "52330782MJ9B2C3D5X", "rd_exp_total": "5000"], [])]), groups: &state)
        let r = engine.finish(state)
        let unique = r.violations.filter { $0.rule == "G-UNIQUE" }
        #expect(unique.count == 1)
        #expect(unique.first?.uscc == other && unique.first?.projectName == "甲")
        #expect(unique.first?.messageZh == "项目“甲”重复 2 次")
        #expect(r.summary["G-UNIQUE"]?.passed == 2)
        // 330782: 6000 + 5000 > 10000 fails; 330783 has one enterprise only, fails count() >= 2.
        let region = r.violations.filter { $0.rule == "G-REGION" }
        #expect(Set(region.map(\.observed)).count == 2)
        #expect(region.contains { $0.observed.contains("region_code=330782") && $0.observed.contains("sum(…)=11000") })
        #expect(region.allSatisfy { $0.uscc.isEmpty })
    }
}

@Suite struct FeedbackTests {
    @Test func feedbackGroupsBySeverityAndSaysWhatToDo() {
        var act = Baseline.activity
        act["rd_exp_total"] = "5100"          // R102 强制性
        act["tax_superded_relief"] = "0"      // R212 核实性
        let r = catalogueEngine.evaluate(Build.batch([(act, Baseline.projects)]), bindings: Baseline.bindings)
        let text = Feedback.render(r.violations, enterprise: "义乌市测试机械有限公司", titles: catalogue.titlesZh)
        #expect(text.contains("一、强制性审核问题"))
        #expect(text.contains("二、核实性审核问题"))
        #expect(text.contains("[R102 研究开发费用合计=八项之和]"))
        #expect(text.contains("差额 100 千元"))
        #expect(text.contains("上报说明"))
        #expect(text.range(of: "一、")!.lowerBound < text.range(of: "二、")!.lowerBound)
        #expect(Feedback.render([]).contains("未发现"))
    }
}
