import Foundation
import Testing
import YingtongModel
@testable import YingtongRules

@Suite struct CatalogueTests {
    @Test func catalogueLoadsWithItsIncludesAndLintsClean() throws {
        #expect(catalogue.files.count == 7)
        #expect(catalogue.version == "2026.1")
        #expect(catalogue.sha256.count == 64)
        let findings = Lint.run(catalogue)
        #expect(findings.isEmpty, "\(findings.map(\.description).joined(separator: "\n"))")
        let ids = Set(catalogue.rules.map(\.id))
        let expected = (1...5).map { "V00\($0)" } + (101...117).map { "R\($0)" } + (201...219).map { "R\($0)" }
        #expect(Set(expected).isSubset(of: ids), "missing: \(Set(expected).subtracting(ids).sorted())")
    }

    @Test func baselineEnterprisePassesEveryRule() throws {
        var groups = catalogueEngine.makeGroupState()
        let r = catalogueEngine.evaluate(Build.batch([(Baseline.activity, Baseline.projects)]), bindings: Baseline.bindings, groups: &groups)
        let g = catalogueEngine.finish(groups)
        #expect(r.violations.isEmpty, "\(r.violations.map { "\($0.rule) \($0.messageZh)" })")
        #expect(g.violations.isEmpty)
        for c in r.summary.rules {
            #expect(c.failed == 0, "\(c.rule)")
            #expect(c.evaluated == c.passed + c.failed + c.notApplicable)
        }
        // With every binding present, only V005 meets blanks: fields of the older layout (and the starred
        // exp_basic) that a 2021 form leaves empty. Every other rule is decided for the baseline.
        // X05's guard (a development contract bought) is false for it: it outsources nothing.
        for c in r.summary.rules where c.rule != "V005" && c.rule != "X05" {
            #expect(c.notApplicable == 0, "\(c.rule): \(c.reasons)")
        }
        #expect(r.summary["V005"]?.reasons.keys.allSatisfy { $0.hasPrefix("缺少 ") } == true)
    }
}
