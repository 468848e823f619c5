import Foundation
import GRDB
import Testing
import YingtongModel
@testable import YingtongStore

@Suite("Store schema and runs")
struct StoreSchemaTests {
    @Test func schemaHasAColumnPerDictionaryField() throws {
        let (store, _) = try makeStore()
        let tables = try store.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        for t in ["run", "record", "record_history", "project", "project_history", "roster", "macro", "violation",
                  "quarantine", "indicator", "field_catalog"] {
            #expect(tables.contains(t), "缺少表 \(t)")
        }
        let recordColumns = try store.read { db in try db.columns(in: "record").map(\.name) }
        for f in FieldDictionary.standard.fields(of: .activity) { #expect(recordColumns.contains(f.code)) }
        let historyColumns = try store.read { db in try db.columns(in: "record_history").map(\.name) }
        #expect(Set(historyColumns) == Set(recordColumns))
        let projectColumns = try store.read { db in try db.columns(in: "project").map(\.name) }
        for f in FieldDictionary.standard.fields(of: .projects) { #expect(projectColumns.contains(f.code)) }
        #expect(projectColumns.filter { $0 == "project_name" }.count == 1)

        let money = try store.read { db in
            try Row.fetchOne(db, sql: "SELECT type, storage, unit FROM field_catalog WHERE code = 'rd_exp_total'")
        }
        #expect(money?["type"] == "money")
        #expect((money?["storage"] as String?)?.contains("元") == true)
        #expect(try store.read { db in try db.columns(in: "record").first { $0.name == "rd_exp_total" }?.type } == "INTEGER")
        #expect(try store.read { db in try db.columns(in: "project").first { $0.name == "person_months" }?.type } == "REAL")
        let journal = try store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }

    @Test func reopeningAnExistingStoreKeepsItsRuns() throws {
        let (store, path) = try makeStore()
        let w = try store.beginRun(run())
        try w.insert(batch(.activity, [TestRow(uscc: usccA, sequence: 1, line: 2, numbers: ["rd_exp_total": k("1")])]))
        try w.commit()
        try store.close()
        let again = try Store(path: path)
        #expect(try again.runs().count == 1)
        #expect(try again.recordCount(run: again.runs()[0].id) == 1)
    }

    @Test func aFieldAddedToTheDictionaryBecomesAColumnOfAnExistingStore() throws {
        let (store, path) = try makeStore()
        try store.close()
        var yaml = try ReferenceData.text("fields.yaml")
        let line = "  - {code: rd_exp_new_row, form: \"107-2\", rows: {\"2021\": 59}, name: 新增测试行, unit: 千元, type: money}\n"
        yaml = yaml.replacingOccurrences(of: "\n  # ── 107-1 企业研究开发项目情况", with: "\n" + line + "  # ── 107-1 企业研究开发项目情况")
        let grown = try FieldDictionary(yaml: yaml)
        #expect(grown.field("rd_exp_new_row") != nil)
        let again = try Store(path: path, dictionary: grown)
        let columns = try again.read { db in try db.columns(in: "record_history").map(\.name) }
        #expect(columns.contains("rd_exp_new_row"))
        let catalog = try again.read { db in try String.fetchOne(db, sql: "SELECT name_zh FROM field_catalog WHERE code = 'rd_exp_new_row'") }
        #expect(catalog == "新增测试行")
        let w = try again.beginRun(run())
        var b = RecordBatch(form: .activity, formVersion: "2021", fields: grown.fields(of: .activity))
        b.uscc = [usccA]; b.name = [nil]; b.regionCode = [nil]; b.industryCode = [nil]; b.period = [2023]
        b.submittedAt = [nil]; b.sequence = [1]
        b.provenance = [Provenance(sourceIndex: 0, line: 2, lineEnd: 2, byteOffset: 0)]
        for c in b.columns.indices {
            if b.columns[c].field.code == "rd_exp_new_row" { b.columns[c].append(k("12.5")) } else { b.columns[c].appendMissing() }
        }
        try w.insert(b)
        try w.commit()
        #expect(try again.read { db in try Int64.fetchOne(db, sql: "SELECT rd_exp_new_row FROM record") } == 12_500)
    }

    @Test func batchRoundTripIsExact() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        // 1 234 567.891 千元 = 1 234 567 891 元: a value Double would already round at 17 significant digits
        // after summing; here it must come back to the 元.
        let row = TestRow(uscc: usccA, submittedAt: "2024-03-15T10:02:00+08:00", sequence: 1, line: 7,
                          numbers: ["rd_exp_total": k("1234567.891"), "rd_exp_labor": k("0.001"),
                                    "rd_staff_total": k("35"), "rd_staff_female": k("2.5"), "rd_fte": k("12.345")])
        try w.insert(batch(.activity, [row]))
        try w.commit()
        let runID = try #require(store.runs().first?.id)
        let values = try #require(try store.recordValues(run: runID, uscc: usccA, period: 2023))
        #expect(values["rd_exp_total"]?.milli == k("1234567.891"))
        #expect(values["rd_exp_labor"]?.milli == k("0.001"))
        #expect(values["rd_staff_total"]?.milli == k("35"))
        #expect(values["rd_staff_female"]?.milli == k("2.5"))
        #expect(values["rd_fte"]?.milli == k("12.345"))
        #expect(values["rd_exp_direct"] == nil, "缺失值必须保持为 NULL，不能变成 0")
        #expect(values["submitted_at"]?.text == "2024-03-15T10:02:00+08:00")
        let types = try store.read { db in
            try Row.fetchOne(db, sql: "SELECT typeof(rd_exp_total) a, rd_exp_total b, typeof(rd_staff_total) c, typeof(rd_staff_female) d FROM record")
        }
        #expect(types?["a"] == "integer")
        #expect(types?["b"] == 1_234_567_891 as Int64)
        #expect(types?["c"] == "integer")
        #expect(types?["d"] == "real")
    }

    @Test func rosterMacroViolationsAndQuarantineAreStored() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        try w.insert(batch(.roster, [TestRow(uscc: usccA, sequence: 1, line: 2, numbers: ["revenue": k("5000")],
                                             texts: ["above_scale": "是"])]))
        try w.insert(batch(.macro, [TestRow(uscc: "", sequence: 2, line: 2, numbers: ["value": k("3456789.5")],
                                            texts: ["indicator": "GDP", "unit": "千元"])]))
        try w.insert(violations: [violation("R102", .error, uscc: usccA, line: 2)])
        try w.insert(quarantine: [QuarantineEntry(sourceIndex: 0, file: "a.csv", line: 9, lineEnd: 9, column: 3,
                                                  raw: "x,\"y", code: "E-CSV-QUOTE", messageZh: "引号未闭合")])
        try w.commit()
        let id = try #require(store.runs().first?.id)
        #expect(try store.count(.roster, run: id) == 1)
        #expect(try store.count(.violation, run: id) == 1)
        #expect(try store.count(.quarantine, run: id) == 1)
        let macro = try store.read { db in try Row.fetchOne(db, sql: "SELECT value, value_milli, indicator, region_code FROM macro") }
        #expect(macro?["value"] == "3456789.5")
        #expect(macro?["value_milli"] == 3_456_789_500 as Int64)
        #expect(macro?["region_code"] == "330122")
        let fields = try store.read { db in try String.fetchOne(db, sql: "SELECT fields FROM violation") }
        #expect(fields == "[\"rd_exp_total\"]")
    }

    @Test func rerunReplacesThePreviousRun() throws {
        let (store, _) = try makeStore()
        let w1 = try store.beginRun(run())
        try w1.insert(batch(.activity, [TestRow(uscc: usccA, sequence: 1, line: 2), TestRow(uscc: usccB, sequence: 2, line: 3)]))
        try w1.insert(violations: [violation("R201", .warning, uscc: usccA, line: 2)])
        try w1.commit()
        let w2 = try store.beginRun(run())
        try w2.insert(batch(.activity, [TestRow(uscc: usccC, sequence: 1, line: 2)]))
        try w2.commit()
        let runs = try store.runs()
        #expect(runs.count == 1)
        #expect(runs[0].id == w2.runID)
        #expect(try store.recordCount(run: w2.runID) == 1)
        let left = try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM violation") ?? -1)
        }
        #expect(left.0 == 1)
        #expect(left.1 == 0, "上一次运行的违规记录应随运行一起删除")
    }

    @Test func anotherPeriodOrPipelineSitsBeside() throws {
        let (store, _) = try makeStore()
        for (p, pipeline) in [(2022, "county"), (2023, "county"), (2023, "other")] {
            let w = try store.beginRun(run(pipeline, period: p))
            try w.insert(batch(.activity, [TestRow(uscc: usccA, period: p, sequence: 1, line: 2)]))
            try w.commit()
        }
        #expect(try store.runs().count == 3)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") } == 3)
    }

    @Test func anErrorMidRunLeavesThePreviousRunUntouched() throws {
        let (store, _) = try makeStore()
        let w1 = try store.beginRun(run())
        try w1.insert(batch(.activity, [TestRow(uscc: usccA, sequence: 1, line: 2, numbers: ["rd_exp_total": k("10")])]))
        try w1.commit()

        let w2 = try store.beginRun(run())
        try w2.insert(batch(.activity, [TestRow(uscc: usccB, sequence: 1, line: 2)]))
        var broken = batch(.activity, [TestRow(uscc: usccC, sequence: 2, line: 3)])
        broken.period.removeAll()       // a malformed batch: must be an error, not a crash
        #expect(throws: YingtongError.self) { try w2.insert(broken) }
        #expect(!w2.isOpen)
        #expect(throws: YingtongError.self) { try w2.commit() }

        let runs = try store.runs()
        #expect(runs.map(\.id) == [w1.runID])
        #expect(try store.recordValues(run: w1.runID, uscc: usccA, period: 2023)?["rd_exp_total"]?.milli == k("10"))
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") } == 1)

        // An explicit rollback does the same, and the store accepts the next run afterwards.
        let w3 = try store.beginRun(run())
        try w3.insert(batch(.activity, [TestRow(uscc: usccB, sequence: 1, line: 2)]))
        try w3.rollback()
        #expect(try store.runs().map(\.id) == [w1.runID])
        let w4 = try store.beginRun(run())
        try w4.commit()
        #expect(try store.runs().map(\.id) == [w4.runID])
    }

    @Test func deferredIndexesAreRebuiltBeforeResolutionAndCommit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try Store(path: dir.appendingPathComponent("s.sqlite").path, defersIndexes: true)
        let w = try store.beginRun(run())
        try w.insert(batch(.activity, [TestRow(uscc: usccA, submittedAt: "2024-01-02", sequence: 1, line: 2),
                                       TestRow(uscc: usccA, submittedAt: "2024-01-01", sequence: 2, line: 3)]))
        let indexSQL = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'record'"
        let during = try w.withDatabase { db in try String.fetchAll(db, sql: indexSQL) }
        #expect(!during.contains("record_key"))
        #expect(try w.resolveResubmissions().records == 1)
        try w.commit()
        let after = try store.read { db in try String.fetchAll(db, sql: indexSQL) }
        #expect(after.contains("record_key") && after.contains("record_line"))
        #expect(try store.read { db in try Int64.fetchOne(db, sql: "SELECT sequence FROM record") } == 1)
    }

    @Test func nothingIsVisibleBeforeCommit() throws {
        let (store, path) = try makeStore()
        let w = try store.beginRun(run())
        try w.insert(batch(.activity, [TestRow(uscc: usccA, sequence: 1, line: 2)]))
        let other = try Store(path: path)
        #expect(try other.runs().isEmpty)
        #expect(try store.runs().isEmpty)
        try w.commit()
        #expect(try other.runs().count == 1)
    }

    @Test func finishRecordsTheManifest() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        let input = RunInput(path: "in/a.csv", role: "bureau_rd", sha256: String(repeating: "a", count: 64), bytes: 123,
                             encoding: "gb18030", lines: LineTally(physicalLines: 10, recordLines: 8, layoutLines: 2, records: 8))
        try w.finish(manifest: RunManifest(inputs: [input], rulePacks: [RulePack(path: "rules/r.yaml", sha256: "b", rules: 40)],
                                           counts: ["read.records": 8, "quarantine": 0]))
        try w.commit()
        let r = try #require(store.runs().first)
        #expect(r.status == "ok")
        #expect(r.finishedAt != nil)
        #expect(r.counts["read.records"] == 8)
        let inputs = try store.read { db in try String.fetchOne(db, sql: "SELECT inputs FROM run") }
        #expect(inputs?.contains("\"sha256\":\"aaaa") == true)
        #expect(inputs?.contains("\"physicalLines\":10") == true)
    }

    /// A run used to live only in the `-wal` file when the store's `previous` connection (the same file, read-only)
    /// outlived the writer: copying `yingtong.sqlite` alone gave an empty store.
    @Test func aCommittedRunIsInTheDatabaseFileItselfEvenWithAReaderOpen() throws {
        let (store, path) = try makeStore()
        let previous = try Store(path: path, readOnly: true)
        #expect(try previous.runs().isEmpty)
        let w = try store.beginRun(run())
        try w.insert(batch(.activity, [TestRow(uscc: usccA, sequence: 1, line: 2, numbers: ["rd_exp_total": k("1")])]))
        try w.commit()
        let wal = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int
        #expect(wal == 0)
        let copy = path + ".copy.sqlite"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let copied = try Store(path: copy, readOnly: true)
        #expect(try copied.runs().count == 1)
        #expect(try copied.recordCount(run: copied.runs()[0].id) == 1)
        try previous.close()
    }

    @Test func aNewStoreHasLargePagesAndAnOldOneKeepsItsOwn() throws {
        let (store, path) = try makeStore()
        #expect(try store.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } == Store.pageSize)
        let old = path + ".old.sqlite"
        let queue = try DatabaseQueue(path: old)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA page_size = 4096; CREATE TABLE t (x)") }
        try queue.close()
        let reopened = try Store(path: old)
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } == 4096)
        #expect(try reopened.runs().isEmpty)
    }
}

@Suite("Resubmissions and statuses")
struct ResolutionTests {
    @Test func latestSubmissionTimeWinsAndLosersGoToHistory() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        try w.insert(batch(.activity, [
            TestRow(uscc: usccA, submittedAt: "2024-03-16 09:00", sequence: 1, line: 2, numbers: ["rd_exp_total": k("2")]),
            // Arrives later but was submitted earlier (+08:00 10:00 on the 15th).
            TestRow(uscc: usccA, submittedAt: "2024-03-15T10:00:00+08:00", sequence: 2, line: 3, numbers: ["rd_exp_total": k("1")]),
            // No time at all: sorts earliest even though it arrived last.
            TestRow(uscc: usccA, submittedAt: nil, sequence: 3, line: 4, numbers: ["rd_exp_total": k("3")]),
            TestRow(uscc: usccB, submittedAt: nil, sequence: 4, line: 5, numbers: ["rd_exp_total": k("9")]),
        ]))
        try w.insert(violations: [
            violation("R102", .error, uscc: usccA, line: 3),    // on a loser
            violation("R201", .warning, uscc: usccA, line: 2),  // on the winner
        ])
        let counts = try w.resolveResubmissions()
        #expect(counts == ResubmissionCounts(records: 2, projects: 0, violations: 1))
        try w.commit()
        #expect(try store.recordValues(run: w.runID, uscc: usccA, period: 2023)?["rd_exp_total"]?.milli == k("2"))
        #expect(try store.count(.record, run: w.runID) == 2)
        #expect(try store.count(.recordHistory, run: w.runID) == 2)
        let history = try store.read { db in try Int64.fetchAll(db, sql: "SELECT sequence FROM record_history ORDER BY sequence") }
        #expect(history == [2, 3])
        let superseded = try store.read { db in try String.fetchAll(db, sql: "SELECT rule FROM violation WHERE superseded = 1") }
        #expect(superseded == ["R102"])
    }

    @Test func equalTimesAreBrokenBySequence() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        // The same instant written in two zones: a tie, so the later arrival (sequence 7) wins.
        try w.insert(batch(.activity, [
            TestRow(uscc: usccA, submittedAt: "2024-03-15T02:00:00Z", sequence: 7, line: 2, numbers: ["rd_exp_total": k("7")]),
            TestRow(uscc: usccA, submittedAt: "2024-03-15T10:00:00+08:00", sequence: 5, line: 3, numbers: ["rd_exp_total": k("5")]),
        ]))
        #expect(try w.resolveResubmissions().records == 1)
        try w.commit()
        #expect(try store.recordValues(run: w.runID, uscc: usccA, period: 2023)?["rd_exp_total"]?.milli == k("7"))
    }

    @Test func theLatestProjectSetWinsAsAWhole() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        try w.insert(batch(.projects, [
            TestRow(uscc: usccA, submittedAt: "2024-03-10", sequence: 1, source: 0, line: 2, texts: ["project_name": "甲"]),
            TestRow(uscc: usccA, submittedAt: "2024-03-10", sequence: 2, source: 0, line: 3, texts: ["project_name": "乙"]),
            TestRow(uscc: usccB, submittedAt: "2024-03-10", sequence: 3, source: 0, line: 4, texts: ["project_name": "丙"]),
        ]))
        try w.insert(batch(.projects, [
            TestRow(uscc: usccA, submittedAt: "2024-03-12", sequence: 4, source: 1, line: 2, texts: ["project_name": "甲（修订）"]),
        ]))
        try w.insert(violations: [violation("R112", .error, uscc: usccA, project: "乙", source: 0, line: 3)])
        let counts = try w.resolveResubmissions()
        #expect(counts == ResubmissionCounts(records: 0, projects: 2, violations: 1))
        try w.commit()
        let live = try store.read { db in try String.fetchAll(db, sql: "SELECT project_name FROM project ORDER BY sequence") }
        #expect(live == ["丙", "甲（修订）"])
        let old = try store.read { db in try String.fetchAll(db, sql: "SELECT project_name FROM project_history ORDER BY sequence") }
        #expect(old == ["甲", "乙"])
    }

    @Test func statusesFollowTheWorstLiveFinding() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        let d = "91330122MA2H3K6J3D", e = "91330122MA2H3K6J4B"
        try w.insert(batch(.activity, [
            TestRow(uscc: usccA, sequence: 1, line: 2), TestRow(uscc: usccB, sequence: 2, line: 3),
            TestRow(uscc: usccC, sequence: 3, line: 4), TestRow(uscc: d, sequence: 4, line: 5),
            TestRow(uscc: e, sequence: 5, line: 6),
            TestRow(uscc: "91330122MA2H3K6J5G", sequence: 10, line: 7), TestRow(uscc: "91330122MA2H3K6J6H", sequence: 11, line: 8),
        ]))
        try w.insert(batch(.projects, [
            TestRow(uscc: usccA, sequence: 6, source: 1, line: 2, texts: ["project_name": "A1"]),
            TestRow(uscc: usccB, sequence: 7, source: 1, line: 3, texts: ["project_name": "B1"]),
            TestRow(uscc: usccB, sequence: 8, source: 1, line: 4, texts: ["project_name": "B2"]),
            TestRow(uscc: e, sequence: 9, source: 1, line: 5, texts: ["project_name": "E1"]),
            TestRow(uscc: "91330122MA2H3K6J6H", sequence: 12, source: 1, line: 6, texts: ["project_name": "H1"]),
        ]))
        try w.insert(violations: [
            violation("R102", .error, uscc: usccA, line: 2),
            violation("R201", .warning, uscc: usccA, line: 2),
            violation("R212", .warning, uscc: usccB, line: 3),
            violation("R212", .warning, uscc: usccC, line: 4),
            violation("R218", .info, uscc: d, line: 5),
            // Matched on (source, line) although the violation's key differs (e.g. a malformed USCC as sent).
            violation("V001", .error, uscc: "9133X", source: 0, line: 6, level: 0),
            violation("R217", .warning, uscc: usccB, project: "B2", source: 1, line: 4),
            // A key that names a record decides alone: the line (here another record's) is only the fallback.
            violation("R205", .error, uscc: "91330122MA2H3K6J5G", source: 0, line: 8),
        ])
        try w.insert(explanations: [ExplanationNote(uscc: usccC, period: 2023, rule: "R212", text: "次年汇算清缴时申报",
                                                    sourceIndex: 0, line: 4)])
        let counts = try w.applyStatuses()
        try w.commit()
        func status(_ table: String, _ key: String) throws -> String? {
            try store.read { db in
                try String.fetchOne(db, sql: "SELECT status FROM \(table) WHERE \(table == "record" ? "uscc" : "project_name") = ?",
                                    arguments: [key])
            }
        }
        #expect(try status("record", usccA) == "rejected")
        #expect(try status("record", usccB) == "flagged")
        #expect(try status("record", usccC) == "explained")
        #expect(try status("record", d) == "clean")
        #expect(try status("record", e) == "rejected")
        #expect(try status("record", "91330122MA2H3K6J5G") == "rejected")
        #expect(try status("record", "91330122MA2H3K6J6H") == "clean", "审核结果的代码指向另一条记录时不按行号连带")
        #expect(try status("project", "A1") == "rejected", "企业级强制性错误应连带否决其项目")
        #expect(try status("project", "B1") == "clean")
        #expect(try status("project", "B2") == "flagged")
        #expect(try status("project", "E1") == "rejected", "按行号匹配到企业记录的强制性错误也应否决其项目")
        #expect(try status("project", "H1") == "clean")
        #expect(counts.records == [.rejected: 3, .flagged: 1, .explained: 1, .clean: 2])
        #expect(counts.projects == [.rejected: 2, .clean: 2, .flagged: 1])
        let explained = try store.read { db in try String.fetchOne(db, sql: "SELECT explanation FROM violation WHERE uscc = ?", arguments: [usccC]) }
        #expect(explained == "次年汇算清缴时申报")
    }

    @Test func statusesCanBeReappliedAndIncomingStatusesAreRecomputed() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        var b = batch(.activity, [TestRow(uscc: usccA, sequence: 1, line: 2), TestRow(uscc: usccB, sequence: 2, line: 3)])
        b.status = [.rejected, .clean]          // a status set upstream without a finding to back it
        try w.insert(b)
        try w.insert(violations: [violation("R212", .warning, uscc: usccB, line: 3)])
        #expect(try w.applyStatuses().records == [.clean: 1, .flagged: 1])
        try w.insert(explanations: [ExplanationNote(uscc: usccB, period: 2023, rule: "R212", text: "已说明", sourceIndex: 0, line: 3)])
        #expect(try w.applyStatuses().records == [.clean: 1, .explained: 1])
        try w.commit()
        #expect(try store.recordCount(run: w.runID, status: .explained) == 1)
        #expect(try store.recordCount(run: w.runID, status: .rejected) == 0)
    }

    @Test func supersededFindingsDoNotDecideTheStatus() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        try w.insert(batch(.activity, [
            TestRow(uscc: usccA, submittedAt: "2024-03-01", sequence: 1, line: 2),
            TestRow(uscc: usccA, submittedAt: "2024-03-02", sequence: 2, line: 3),
        ]))
        try w.insert(violations: [violation("R102", .error, uscc: usccA, line: 2)])
        try w.resolveResubmissions()
        try w.applyStatuses()
        try w.commit()
        #expect(try store.recordCount(run: w.runID, status: .clean) == 1)
    }
}

@Suite("Submission time keys")
struct SubmissionTimeTests {
    @Test(arguments: [
        ("2024-03-15T10:02:00+08:00", "2024-03-15T02:02:00.000Z"),
        ("2024-03-15T02:02:00Z", "2024-03-15T02:02:00.000Z"),
        ("2024-03-15 10:02:00", "2024-03-15T02:02:00.000Z"),
        ("2024/3/15 10:02", "2024-03-15T02:02:00.000Z"),
        ("2024年3月15日", "2024-03-14T16:00:00.000Z"),
        ("20240315", "2024-03-14T16:00:00.000Z"),
        ("2024-01-01T01:00:00.5+08:00", "2023-12-31T17:00:00.500Z"),
        ("２０２４－０３－１５", "2024-03-14T16:00:00.000Z"),
        ("2024-03-15T10:02:00-0500", "2024-03-15T15:02:00.000Z"),
    ])
    func normalizes(_ raw: String, _ key: String) {
        #expect(SubmissionTime.key(raw) == key)
    }

    @Test func arbitraryTextNeverCrashesAndKeysAreWellFormed() {
        var seed: UInt64 = 7
        let alphabet = Array("0123456789-:+TZ年月日 ./９")
        for _ in 0..<3000 {
            var s = ""
            seed = seed &* 6364136223846793005 &+ 1
            for _ in 0..<Int(seed >> 60) + 8 {
                seed = seed &* 6364136223846793005 &+ 1
                s.append(alphabet[Int((seed >> 33) % UInt64(alphabet.count))])
            }
            if let key = SubmissionTime.key(s) {
                #expect(key.count == 24 && key.hasSuffix("Z"), "\(s) → \(key)")
            }
        }
    }

    @Test(arguments: ["", "不详", "2024-13-01", "2024-02-30", "12:00", "2024-03-15T25:00:00"])
    func rejectsNonsense(_ raw: String) {
        #expect(SubmissionTime.key(raw) == nil)
    }
}

@Suite("Omission subjects")
struct OmissionSubjectTests {
    /// Subjects noted by the rule stages come back in (uscc, period) order with the values noted beside them; one
    /// noted without a record is looked up (its own period's row), one noted as sending nothing has none, and a
    /// unit noted twice gathers both rule lists — looked up when the two notes disagree on its record.
    @Test func notedSubjectsComeBackInOrder() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        let d = "91330122MA2H3K6J3D"
        try w.insert(batch(.activity, [
            TestRow(uscc: usccC, sequence: 1, line: 2, numbers: ["rd_exp_total": k("30")]),
            TestRow(uscc: usccB, period: 2022, sequence: 3, line: 4, numbers: ["rd_exp_total": k("21")]),
            TestRow(uscc: usccB, sequence: 4, line: 5, numbers: ["rd_exp_total": k("22")]),
        ]))
        try w.beginNotingOmissionSubjects()
        try w.note(omissionSubjects: [
            NotedOmissionSubject(uscc: usccC, period: 2023, rules: ["X03"],
                                 record: .sent(["rd_exp_total": k("30")], name: "noted C", regionCode: "330122")),
            NotedOmissionSubject(uscc: d, period: 2023, rules: ["X10"], record: .none),
            NotedOmissionSubject(uscc: usccB, period: 2023, rules: ["X01"], record: .unknown),
        ])
        try w.note(omissionSubjects: [
            NotedOmissionSubject(uscc: usccC, period: 2023, rules: ["X02"], record: .none),
            NotedOmissionSubject(uscc: d, period: 2023, rules: ["X11"], record: .none),
        ])
        var got: [OmissionSubject] = []
        try w.forEachOmissionSubjectBlock(fields: ["rd_exp_total"], size: 2) { got += $0 }
        try w.rollback()
        #expect(got.map(\.uscc) == [usccB, usccC, d].sorted())
        let byUSCC = Dictionary(uniqueKeysWithValues: got.map { ($0.uscc, $0) })
        #expect(byUSCC[usccB]?.rules == ["X01"])
        #expect(byUSCC[usccB]?.record?["rd_exp_total"]?.milli == k("22"), "查到的是 2023 年的记录")
        #expect(byUSCC[usccC]?.rules == ["X02", "X03"])
        #expect(byUSCC[usccC]?.record?["rd_exp_total"]?.milli == k("30"))
        #expect(byUSCC[usccC]?.name == "企业\(usccC.suffix(4))", "两次记录不一致时按键查回记录，而不是用记下的名称")
        #expect(byUSCC[d]?.rules == ["X10", "X11"] && byUSCC[d]?.record == nil)
    }

    /// A subject noted with its values keeps them: the store is not asked again.
    @Test func notedValuesAreUsedAsNoted() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        try w.beginNotingOmissionSubjects()
        try w.note(omissionSubjects: [
            NotedOmissionSubject(uscc: usccA, period: 2023, rules: ["X01"],
                                 record: .sent(["rd_exp_total": k("7.5")], name: "甲", regionCode: "330122")),
        ])
        var got: [OmissionSubject] = []
        try w.forEachOmissionSubjectBlock(fields: ["rd_exp_total"], size: 10) { got += $0 }
        try w.rollback()
        #expect(got.count == 1)
        #expect(got.first?.record?["rd_exp_total"]?.milli == k("7.5") && got.first?.name == "甲")
    }

    /// Evidence noted with a subject comes back whole (rows, sums, texts; a separator inside a value becomes a
    /// space, never a split); the first note of it stands; a subject noted without evidence has none (the list
    /// looks it up), one noted with no registry rows has an empty set, not nil.
    @Test func notedEvidenceComesBackWithItsSubject() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        try w.beginNotingOmissionSubjects()
        var hte = RegistryMatch()
        hte.rows = 2
        hte.sums = ["revenue": k("1200.5"), "flag": k("1")]
        hte.texts = ["hte_cert_no": ["GR202333000001", "GR2023\u{1F}2", "GR\u{1C}3"], "hte_issued_on": []]
        var tax = RegistryMatch()
        tax.rows = 1
        tax.sums = ["rd_deduction_base": k("88")]
        let sent = NotedOmissionSubject.Record.sent(["rd_exp_total": k("1")], name: "甲", regionCode: "330122")
        try w.note(omissionSubjects: [
            NotedOmissionSubject(uscc: usccA, period: 2023, rules: ["X01"], record: sent,
                                 evidence: ["hte": hte, "tax_deduction": tax]),
            NotedOmissionSubject(uscc: usccB, period: 2023, rules: ["X02"], record: .none, evidence: [:]),
            NotedOmissionSubject(uscc: usccC, period: 2023, rules: ["X03"], record: .unknown),
        ])
        try w.note(omissionSubjects: [
            NotedOmissionSubject(uscc: usccA, period: 2023, rules: ["X04"], record: sent, evidence: ["hte": tax]),
            NotedOmissionSubject(uscc: usccC, period: 2023, rules: ["X05"], record: .unknown),
        ])
        var got: [OmissionSubject] = []
        try w.forEachOmissionSubjectBlock(fields: ["rd_exp_total"], size: 2) { got += $0 }
        try w.rollback()
        let byUSCC = Dictionary(uniqueKeysWithValues: got.map { ($0.uscc, $0) })
        var cleaned = hte
        cleaned.texts["hte_cert_no"] = ["GR202333000001", "GR2023 2", "GR 3"]
        #expect(byUSCC[usccA]?.evidence == ["hte": cleaned, "tax_deduction": tax])
        #expect(byUSCC[usccA]?.rules == ["X01", "X04"])
        #expect(byUSCC[usccB]?.evidence == [:])
        #expect(byUSCC[usccC]?.evidence == nil)
    }
}

@Suite("Registry matches")
struct RegistryMatchTests {
    /// A match keeps its texts joined as SQLite gives them and splits them when read: every value comes back in
    /// order, a column not read has none, and a separator inside a value set by hand is kept as a space.
    @Test func textsAreSplitWhenReadAndKeepEveryValue() {
        var m = RegistryMatch()
        m.texts = ["hte_cert_no": ["GR202333000001", "GR2023\u{1F}2"], "hte_issued_on": ["2023-11-06"]]
        #expect(m.texts("hte_cert_no") == ["GR202333000001", "GR2023 2"])
        #expect(m.texts("hte_issued_on") == ["2023-11-06"])
        #expect(m.texts("contract_amount").isEmpty)
        #expect(m.texts == ["hte_cert_no": ["GR202333000001", "GR2023 2"], "hte_issued_on": ["2023-11-06"]])
        var same = RegistryMatch()
        same.texts = ["hte_issued_on": ["2023-11-06"], "hte_cert_no": ["GR202333000001", "GR2023 2"]]
        #expect(same == m)
    }
}

@Suite("Name indexes built after the load")
struct DeferredNameIndexTests {
    func nameIndexes(_ store: Store) throws -> [String] {
        try store.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND name GLOB '*_name' ORDER BY name")
        }
    }

    /// A fresh store's name indexes are dropped for the load and built before the commit; a rolled-back run and a
    /// run beside another one leave them as they were, and a name lookup inside the run finds its rows.
    @Test func nameIndexesSurviveEveryWayARunEnds() throws {
        let (store, _) = try makeStore()
        let all = try nameIndexes(store)
        #expect(all.contains("roster_name") && all.contains("registry_tax_deduction_name"))
        let abandoned = try store.beginRun(run())
        try abandoned.insert(batch(.taxDeduction, [TestRow(uscc: usccB, sequence: 1, line: 2)]))
        try abandoned.rollback()
        #expect(try nameIndexes(store) == all, "回滚的运行应恢复删除的索引")
        let w = try store.beginRun(run())
        #expect(try w.withDatabase { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name IN ('registry_tax_deduction_name', 'roster_name')")
        } == ["roster_name"], "空的名单表的名称索引应在装载前删除，名录保留")
        try w.insert(batch(.taxDeduction, [TestRow(uscc: usccA, sequence: 1, line: 2)]))
        try w.finishLoading()
        let found = try w.withDatabase { db in
            try String.fetchOne(db, sql: "SELECT uscc FROM registry_tax_deduction INDEXED BY registry_tax_deduction_name WHERE run_id = ? AND name = ?",
                                arguments: [w.runID, "企业\(usccA.suffix(4))"])
        }
        #expect(found == usccA)
        try w.commit()
        #expect(try nameIndexes(store) == all)

        let beside = try store.beginRun(run(period: 2025))
        #expect(try beside.withDatabase { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE name = 'registry_tax_deduction_name'") } == 1,
                "已有其他运行数据的表保留其索引")
        try beside.commit()
        #expect(try nameIndexes(store) == all)
    }
}

@Suite("Units that sent nothing")
struct UnreportedUnitTests {
    /// Several sources name the same unit; the one it is listed under is the first source's row, whole: its index,
    /// its line and (where that row has one) its name, never a mix of the smallest of each column.
    @Test func aUnitNamedTwiceIsLocatedAtOneRealRow() throws {
        let (store, _) = try makeStore()
        let w = try store.beginRun(run())
        try w.insert(batch(.activity, [TestRow(uscc: usccA, sequence: 1, line: 2)]))
        try w.beginNamedUnits()
        try w.addNamedUnits([
            NamedUnit(uscc: usccB, name: "乙公司（税务）", regionCode: "330122", sourceIndex: 5, line: 3),
            NamedUnit(uscc: usccB, name: "乙公司", regionCode: nil, sourceIndex: 2, line: 40),
            NamedUnit(uscc: usccC, name: nil, regionCode: nil, sourceIndex: 1, line: 7),
            NamedUnit(uscc: usccC, name: "丙公司", regionCode: "330122", sourceIndex: 4, line: 2),
            NamedUnit(uscc: usccA, name: "甲公司", regionCode: "330122", sourceIndex: 1, line: 2),
        ])
        var units: [NamedUnit] = []
        try w.forEachUnreportedBlock(size: 1) { units += $0 }
        #expect(units == [
            NamedUnit(uscc: usccB, name: "乙公司", regionCode: "330122", sourceIndex: 2, line: 40),
            NamedUnit(uscc: usccC, name: "丙公司", regionCode: "330122", sourceIndex: 1, line: 7),
        ])
        try w.rollback()
    }
}
