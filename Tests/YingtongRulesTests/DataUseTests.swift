import Testing
import YingtongModel
@testable import YingtongRules

/// The rule stage reads back only the columns and registries a pack names (`RuleEngine.fieldsRead`,
/// `registriesUsed`): a field missed here would read as missing for every enterprise, so every place an
/// expression can hide one is covered.
@Suite struct DataUseTests {
    static let pack = """
    derive:
      fte: sum(projects.person_months) / 12
      revenue: lookup(roster, revenue)
    rules:
      - id: U1
        severity: warning
        level: 1
        when: rd_exp_total > 0
        check: rd_exp_labor <= rd_exp_total
        message_zh: 人工 {rd_exp_labor} 与 {rd_staff_total}
      - id: U2
        severity: warning
        level: 3
        check: fte <= rd_staff_total or listed(hte)
        message_zh: 全时当量 {fte}
      - id: U3
        severity: info
        level: 3
        check: rd_exp_total <= revenue
        message_zh: 收入 {revenue}
      - id: U4
        severity: error
        level: 1
        group_by: [uscc, period, project_name]
        check: count() <= 1
        message_zh: 项目重复
    """

    @Test func fieldsAndRegistriesComeFromChecksGuardsMessagesAndDerivedValues() throws {
        let engine = try RuleEngine(pack: RulePack.parse(yaml: Self.pack))
        for f in ["rd_exp_total", "rd_exp_labor", "rd_staff_total", "person_months", "project_name"] {
            #expect(engine.fieldsRead.contains(f), "\(f)")
        }
        #expect(!engine.fieldsRead.contains("rd_exp_material"))
        #expect(engine.registriesUsed == ["hte", "roster"])
    }

    @Test func theCatalogueNamesEveryFieldItsEachFieldRuleExpandsOver() {
        let numeric = FieldDictionary.standard.fields.filter {
            ($0.form == .activity || $0.form == .projects) && [.count, .money, .quantity].contains($0.type)
        }
        #expect(!numeric.isEmpty)
        #expect(numeric.allSatisfy { catalogueEngine.fieldsRead.contains($0.code) })
    }
}

@Suite struct DerivedShadowTests {
    /// `revenue: lookup(roster, revenue)` names itself as the registry field: scope inference recursed through the
    /// derived value until the stack overflowed (lint and run crashed). Now it compiles, and lint warns.
    @Test func aDerivedValueNamedLikeTheFieldItLooksUpCompiles() throws {
        let yaml = """
        derive:
          revenue: lookup(roster, revenue)
        rules:
          - id: S1
            severity: info
            level: 3
            check: rd_exp_total <= revenue
            message_zh: 收入 {revenue}
        """
        let engine = try RuleEngine(pack: RulePack.parse(yaml: yaml))
        #expect(engine.registriesUsed == ["roster"])
        #expect(Lint.run(try RulePack.parse(yaml: yaml)).contains { $0.code == "L-DERIVE-SHADOWS" })
    }
}
