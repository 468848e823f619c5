import Foundation
import Testing
import Yams
import YingtongModel
@testable import YingtongRules

/// One row of `Cases/catalogue-cases.yaml`.
struct CatalogueCase: Sendable, CustomTestStringConvertible {
    let index: Int
    let rule: String
    let expect: String
    let set: [String: String]
    let project: [Int: [String: String]]
    let removeProjects: Bool
    let prev: String?
    let revenue: String?
    let hteListed: Bool
    let unbind: Set<String>
    /// Registry figures replacing the baseline's (`registries: {tax_deduction: {rd_deduction_base: "9000"}}`).
    let registries: [String: [String: String]]
    /// Registries that do not list the enterprise.
    let unlist: Set<String>
    /// `unreported`: the enterprise sent nothing (identity only, every value missing).
    let subject: String
    let why: String

    var testDescription: String { "#\(index) \(rule) \(expect)" + (why.isEmpty ? "" : " — \(why)") }

    static let all: [CatalogueCase] = {
        guard let url = Bundle.module.url(forResource: "catalogue-cases", withExtension: "yaml", subdirectory: "Cases"),
              let text = try? String(contentsOf: url, encoding: .utf8),
              let rows = (try? Yams.load(yaml: text)) as? [[String: Any]] else { return [] }
        func strings(_ any: Any?) -> [String: String] {
            ((any as? [String: Any]) ?? [:]).mapValues { "\($0)" }
        }
        return rows.enumerated().map { i, r in
            CatalogueCase(
                index: i, rule: "\(r["rule"] ?? "")", expect: "\(r["expect"] ?? "")", set: strings(r["set"]),
                project: [0: strings(r["project0"]), 1: strings(r["project1"])],
                removeProjects: (r["projects"] as? [Any])?.isEmpty == true,
                prev: r["prev"].map { "\($0)" }, revenue: r["revenue"].map { "\($0)" },
                hteListed: (r["hte"] as? Bool) ?? true,
                unbind: Set(((r["unbind"] as? [Any]) ?? []).map { "\($0)" }),
                registries: ((r["registries"] as? [String: Any]) ?? [:]).mapValues { strings($0) },
                unlist: Set(((r["unlist"] as? [Any]) ?? []).map { "\($0)" }),
                subject: (r["subject"] as? String) ?? "reported", why: (r["why"] as? String) ?? "")
        }
    }()

    func batch() -> EnterpriseBatch {
        if subject == "unreported" {
            let act = ["uscc": set["uscc"] ?? Baseline.uscc, "period": "2023", "name": "示例未报送单位"]
            return Build.batch([(act, [])])
        }
        var act = Baseline.activity
        for (k, v) in set { act[k] = v }
        var projects = removeProjects ? [] : Baseline.projects
        for (i, changes) in project where i < projects.count {
            for (k, v) in changes { projects[i][k] = v }
        }
        return Build.batch([(act, projects)])
    }

    func bindings() -> TableBindings {
        let uscc = set["uscc"] ?? Baseline.uscc
        var values = Baseline.registryValues
        if let revenue { values["roster"]?["revenue"] = revenue }
        for (registry, v) in registries { values[registry, default: [:]].merge(v) { _, new in new } }
        var b = Baseline.bindings(registries: values.filter { !unlist.contains($0.key) }, uscc: uscc,
                                  previous: unbind.contains("prev") ? nil : NumberText.parse(prev ?? "4500")!)
        // Registries the run has no source for are unbound (nil), not empty: their rules are not applicable.
        for registry in values.keys where unlist.contains(registry) { b.registries[registry] = [] }
        if !hteListed { b.registries["hte"] = [] }
        for name in unbind where name != "prev" {
            b.registries[name] = nil
            for key in b.lookups.keys where key.hasPrefix(name + ".") { b.lookups[key] = nil }
        }
        return b
    }
}

@Suite struct CatalogueCaseTests {
    @Test func tableHasAFiringAndAPassingCaseForEveryRule() {
        #expect(CatalogueCase.all.count > 100)
        for id in catalogue.rules.map(\.id) {
            let cases = CatalogueCase.all.filter { $0.rule == id }
            #expect(cases.contains { $0.expect == "fire" }, "\(id) 没有触发用例")
            #expect(cases.contains { $0.expect == "pass" }, "\(id) 没有通过用例")
        }
    }

    @Test(arguments: CatalogueCase.all)
    func catalogueCase(_ c: CatalogueCase) throws {
        var groups = catalogueEngine.makeGroupState()
        let r = c.subject == "unreported"
            ? catalogueEngine.evaluateUnreported(c.batch(), bindings: c.bindings())
            : catalogueEngine.evaluate(c.batch(), bindings: c.bindings(), groups: &groups)
        let g = catalogueEngine.finish(groups)
        let hits = (r.violations + g.violations).filter { $0.rule == c.rule }
        var counts = r.summary[c.rule]!
        counts.add(g.summary[c.rule]!)
        switch c.expect {
        case "fire":
            #expect(!hits.isEmpty, "\(c.rule) 应触发：\(counts)")
            #expect(counts.failed == hits.count)
            for v in hits {
                #expect(!v.messageZh.isEmpty && !v.messageZh.contains("{"), "消息未渲染：\(v.messageZh)")
                #expect(v.uscc == (c.set["uscc"] ?? Baseline.uscc))
            }
        case "pass":
            #expect(hits.isEmpty, "\(c.rule) 不应触发：\(hits.map(\.messageZh))")
            #expect(counts.passed >= 1 && counts.failed == 0, "\(counts)")
        case "na":
            #expect(hits.isEmpty, "\(hits.map(\.messageZh))")
            #expect(counts.notApplicable >= 1 && counts.passed == 0, "\(counts)")
        default:
            Issue.record("未知的 expect：\(c.expect)")
        }
    }
}
