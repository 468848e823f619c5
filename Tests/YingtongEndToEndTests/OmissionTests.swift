import Foundation
import Testing
import YingtongModel
import YingtongStore
import GRDB
@testable import YingtongPipeline

/// 应统尽统 over the demo county: the registries of fixtures/demo-county/2023/名单 plant an omission of every
/// kind (FAULTS.md); the expected list was computed independently of yingtong by
/// fixtures/demo-county/make_registries.py from the generator's model and DOMAIN §4.
@Suite(.serialized) struct OmissionTests {
    static let run: (dir: URL, result: RunResult, log: [String]) = {
        let dir = temporaryDirectory()
        let log = LogLines()
        _ = try! PipelineRunner(definition: demoPipeline(period: 2022, in: dir)).run()
        let result = try! PipelineRunner(definition: demoPipeline(period: 2023, in: dir), log: log.append).run()
        return (dir, result, log.lines)
    }()

    func violations(_ rule: String) throws -> [Row] {
        let store = try Store(path: Self.run.result.storePath, readOnly: true)
        defer { try? store.close() }
        return try store.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM violation WHERE run_id = ? AND rule = ? ORDER BY uscc",
                             arguments: [Self.run.result.runID, rule])
        }
    }

    @Test func theOmissionListIsExactlyTheIndependentlyComputedOne() throws {
        let expectedText = try String(contentsOf: repositoryRoot.appendingPathComponent(
            "fixtures/demo-county/expected/omissions-2023.csv"), encoding: .utf8)
        let expected = expectedText.split(whereSeparator: \.isNewline).dropFirst().map { line -> [String] in
            let c = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return [c[0], c[1], c[2], c[3], c[4]]
        }
        let store = try Store(path: Self.run.result.storePath, readOnly: true)
        defer { try? store.close() }
        let got = try store.omissions(run: Self.run.result.runID).map {
            [$0.uscc, $0.name ?? "", $0.rules.joined(separator: " "), String($0.estimatedMissing.raw), $0.basis ?? ""]
        }
        #expect(got.count == expected.count)
        for (g, e) in zip(got, expected) { #expect(g == e) }
        #expect(Self.run.result.counts["omissions"] == expected.count)
    }

    /// The rule stages note what the registries hold on each subject, so the list does not read them again; a
    /// subject noted without it (here: every one) is looked up by key, by USCC and then by exact name as the rules
    /// matched it, and the list comes out the same.
    @Test func evidenceNotedByTheRulesAndLookedUpByTheListAgree() throws {
        let noted = Self.run
        #expect(!noted.log.contains { $0.contains("补查") }, "审核阶段应随记录记下全部证据")
        let dir = temporaryDirectory()
        let log = LogLines()
        _ = try PipelineRunner(definition: demoPipeline(period: 2022, in: dir)).run()
        let looked = try OmissionNotes.$notesEvidence.withValue(false) {
            try PipelineRunner(definition: demoPipeline(period: 2023, in: dir), log: log.append).run()
        }
        #expect(log.lines.contains { $0.contains("\(looked.counts["omissions"] ?? -1) 个对象的外部名单证据") })
        func list(_ r: RunResult) throws -> [OmissionEntry] {
            let store = try Store(path: r.storePath, readOnly: true)
            defer { try? store.close() }
            return try store.omissions(run: r.runID)
        }
        let a = try list(noted.result), b = try list(looked)
        #expect(a.count == b.count && a.count > 20)
        for (x, y) in zip(a, b) { #expect(x == y) }
    }

    @Test func theListIsExportedForPeopleSortedByAmount() throws {
        let path = Self.run.result.outputsDir + "/应统尽统排查清单.csv"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.starts(with: [0xEF, 0xBB, 0xBF]))
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 26)
        #expect(lines[1].hasPrefix("1,913307271254246167,示例县森林家具有限公司,330727,否,R210 X10,,2177.2600,"))
        // The estimate's arithmetic is written beside it.
        #expect(lines.contains { $0.contains("浙江锦江电器有限公司") && $0.contains("技术开发合同（买方，委托研发）合同成交额 1200 千元 − 委托外部研究开发费用（已报 0 千元）= 1200 千元") })
    }

    @Test func aReportWithABrokenUSCCIsMatchedByNameAndSaysSo() throws {
        let x02 = try violations("X02")
        let meitu = try #require(x02.first { ($0["uscc"] as String) == "91330727MA2XE71J8P" })
        #expect((meitu["message"] as String).contains("按单位名称匹配"))
        #expect((meitu["observed"] as String).contains("match=name"))
        // …and it is not "missing from the roster": its name matches a report.
        #expect(try violations("X10").allSatisfy { ($0["uscc"] as String) != "91330727MA2XE71J8N" })
    }

    @Test func registryRowsFollowTheirPeriodAndTypeRules() throws {
        // 华联印染's HTE certificate (2019) and 维控's (2020) expired before 2023; 晶芯's 技术服务 contract is not
        // development. 维控 reports 高企 relief without a valid certificate (R219).
        #expect(try violations("X03").map { $0["uscc"] as String }.sorted()
                == ["91330727MA21D9373M", "91330727MA22BMD56F", "91330727MA29MXNR6G", "91330727MA2JKM9K8L"])
        #expect(try violations("R219").map { $0["uscc"] as String } == ["91330727MA2HDXBC58"])
        #expect(try violations("X05").map { $0["uscc"] as String } == ["91330727MA2WNY1JX9"])
        // The unit only the TSME list names is examined though it sent nothing and is not on the roster.
        let x04 = try violations("X04")
        #expect(x04.map { $0["uscc"] as String } == ["91330727MA2QW8E1XN"])
        #expect(x04.first.map { ($0["line"] as Int) } == 2)
    }

    @Test func aRegistryRowWithoutACodeIsQuarantinedWhereItIs() throws {
        let store = try Store(path: Self.run.result.storePath, readOnly: true)
        defer { try? store.close() }
        let rows = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM quarantine WHERE run_id = ? AND file LIKE '%加计扣除.csv'",
                             arguments: [Self.run.result.runID])
        }
        #expect(rows.count == 1)
        #expect(rows.first.map { $0["line"] as Int } == 8)
        #expect(rows.first.map { $0["code"] as String } == "E-ID-USCC-MISSING")
    }

    @Test func withoutARegistryItsRulesAreNotApplicableNeverFindings() throws {
        // 2022 has no registries: no X01–X09/X11 finding, each counted as not applicable with the reason.
        let store = try Store(path: Self.run.result.storePath, readOnly: true)
        defer { try? store.close() }
        let (n, counts) = try store.read { db -> (Int, String) in
            let run2022 = try Int64.fetchOne(db, sql: "SELECT id FROM run WHERE period = 2022")!
            let n = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM violation WHERE run_id = ? AND rule IN ('X01','X02','X03','X04','X05','X06','X07','X08','X09','X11')
                """, arguments: [run2022])!
            return (n, try String.fetchOne(db, sql: "SELECT counts FROM run WHERE id = ?", arguments: [run2022])!)
        }
        #expect(n == 0)
        #expect(counts.contains("\"rule.X01.not_applicable\":50"))  // 43 reports + 7 units that sent nothing
    }

    /// DOMAIN §2.1's registry figures, computed independently by make_registries.py
    /// (expected/registry-indicators-2023.csv), and the omission figures from the expected list.
    @Test func registryAndOmissionIndicatorsMatchTheIndependentFigures() throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent(
            "fixtures/demo-county/expected/registry-indicators-2023.csv"), encoding: .utf8)
        var expected: [String: Decimal] = [:]
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            expected[f[0]] = Decimal(string: f[1])
        }
        let omissions = try String(contentsOf: repositoryRoot.appendingPathComponent(
            "fixtures/demo-county/expected/omissions-2023.csv"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        expected["omission_count"] = Decimal(omissions.count)
        expected["omission_amount"] = Decimal(omissions.reduce(0) { $0 + Int64($1[3])! }) / 10_000   // 元 → 万元
        #expect(expected.count == 17)
        let produced = Dictionary(uniqueKeysWithValues: Self.run.result.indicators.map { ($0.code, $0) })
        for (code, value) in expected {
            let row = try #require(produced[code], "指标 \(code) 缺失")
            #expect(row.value == value, "\(code): \(row.value.map { "\($0)" } ?? "nil") ≠ \(value)")
        }
        // 晶芯's 技术服务 contract was registered by a seller of another region (330100): not this county's 输出.
        #expect(produced["tech_contract_count"]?.note?.contains("卖方") == true)
    }
}
