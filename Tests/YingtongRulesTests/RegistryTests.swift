import Foundation
import Testing
import YingtongModel
@testable import YingtongRules

@Suite struct RegistryLanguageTests {
    @Test func anUnknownRegistryOrRegistryFieldNamesTheClosestOne() {
        let e = ruleError { _ = try typed("listed(tax_deducton)") }
        #expect(e?.code == "E-RULE-REGISTRY")
        #expect(e?.messageZh.contains("tax_deduction") == true)
        #expect(e?.location == SourceLocation(line: 1, column: 8))
        let f = ruleError { _ = try typed("lookup(tax_deduction, rd_deduction_bas) > 0") }
        #expect(f?.code == "E-RULE-FIELD")
        #expect(f?.messageZh.contains("rd_deduction_base") == true)
        // A registry field used as if it were on the enterprise's own form says how to reach it.
        let g = ruleError { _ = try typed("contract_amount > 0") }
        #expect(g?.code == "E-RULE-SCOPE")
        #expect(g?.messageZh.contains("lookup(") == true)
        #expect((try? typed("lookup(tech_dev_seller, rows) >= 1")) != nil)
        #expect((try? typed("lookup(torch, rd_exp_total) > 0")) != nil)
    }

    @Test func appliesToAndWorklistAreCheckedWhenAPackLoads() {
        func load(_ extra: String) -> RuleError? {
            let yaml = """
                pack: t
                version: "1"
                rules:
                  - id: T1
                    severity: warning
                    level: 4
                    check: listed(hte)
                    message_zh: 测试
                \(extra)
                """
            do { _ = try RuleEngine(pack: RulePack.parse(yaml: yaml)); return nil } catch let e as RuleError { return e } catch { return nil }
        }
        #expect(load("    applies_to: [reported, unreported]\n    worklist: omission") == nil)
        #expect(load("    applies_to: [absent]")?.messageZh.contains("unreported") == true)
        #expect(load("    worklist: todo")?.messageZh.contains("omission") == true)
    }
}

@Suite struct RegistryCatalogTests {
    @Test func theShippedCatalogueIsConsistentWithTheDictionary() throws {
        let c = RegistryCatalog.standard
        let hte = try #require(c.registry("hte"))
        #expect(hte.form == .hte)
        #expect(hte.period == .validFor(dateField: "hte_issued_on", years: 3))
        let buyer = try #require(c.registry("tech_dev_buyer"))
        #expect(buyer.key == "buyer_uscc" && buyer.filter["contract_type"] == ["技术开发"] && !buyer.listsUnits)
        #expect(c.registry("torch")?.evidence?.amount == "rd_exp_total")
    }

    @Test func aMistakeInTheCatalogueIsReportedNotIgnored() {
        let bad = "registries:\n  x: {form: registry.hte, key: buyer_uscc}\n"
        #expect(throws: ReferenceError.self) { try RegistryCatalog(yaml: bad, dictionary: .standard) }
        let noCompare = "registries:\n  x: {form: registry.tax_deduction, evidence: {amount: rd_deduction_base}}\n"
        #expect(throws: ReferenceError.self) { try RegistryCatalog(yaml: noCompare, dictionary: .standard) }
    }
}
