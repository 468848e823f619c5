import Foundation
import Testing
import YingtongModel
@testable import YingtongRules

@Suite struct CatalogueTests {
    @Test func catalogueLoadsWithItsIncludesAndLintsClean() throws {
        #expect(catalogue.files.count == 6)
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
        for c in r.summary.rules where c.evaluated > 0 {
            #expect(c.failed == 0, "\(c.rule)")
        }
        print(r.summary.rules.filter { $0.notApplicable > 0 }.map { "\($0.rule): \($0.reasons)" })
    }
}
