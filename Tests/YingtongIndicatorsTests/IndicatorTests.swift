import Foundation
import Testing
import YingtongModel
import YingtongStore
@testable import YingtongIndicators

// ── tiny hand-made batches ──────────────────────────────────────────────────────────────────────────────

private func makeStore() throws -> Store {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("yingtong-indicator-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return try Store(path: dir.appendingPathComponent("store.sqlite").path)
}

private struct Row {
    var uscc: String
    var line: Int32
    var numbers: [String: String] = [:]
    var texts: [String: String] = [:]
    var industry: String? = "C3484"
    var region: String? = "330122"
}

private func batch(_ form: Form, _ rows: [Row], period: Int = 2023) -> RecordBatch {
    var b = RecordBatch(form: form, formVersion: "2021", fields: FieldDictionary.standard.fields(of: form))
    for (i, r) in rows.enumerated() {
        b.uscc.append(r.uscc)
        b.name.append(nil)
        b.regionCode.append(r.region)
        b.industryCode.append(r.industry)
        b.period.append(period)
        b.submittedAt.append(nil)
        b.sequence.append(Int64(i))
        b.provenance.append(Provenance(sourceIndex: form == .projects ? 1 : form == .roster ? 2 : form == .macro ? 3 : 0,
                                       line: r.line, lineEnd: r.line, byteOffset: 0))
        for k in b.columns.indices {
            let f = b.columns[k].field
            if f.type.isNumeric, let t = r.numbers[f.code] { b.columns[k].append(NumberText.parse(t)!) }
            else if !f.type.isNumeric, let t = r.texts[f.code] { b.columns[k].append(text: t) }
            else { b.columns[k].appendMissing() }
        }
    }
    return b
}

private func macro(_ indicator: String, _ value: String, _ unit: String, period: Int = 2023) -> RecordBatch {
    batch(.macro, [Row(uscc: "", line: 2, numbers: ["value": value], texts: ["indicator": indicator, "unit": unit])], period: period)
}

private func error(_ uscc: String, line: Int32, source: Int32 = 0, project: String? = nil) -> Violation {
    Violation(rule: project == nil ? "R102" : "R112", severity: .error, level: 2, uscc: uscc, period: 2023,
              projectName: project, fields: [], observed: "", messageZh: "测试", sourceIndex: source, line: line)
}

private let A = "91330122MA2H3K6J0M", B = "91330122MA2H3K6J1K", C = "91330122MA2H3K6J2F"
private let D = "91330122MA2H3K6J3D", E = "91330122MA2H3K6J4B", F = "91330122MA2H3K6J5X"
private let G = "91330122MA2H3K6J6Q", H = "91330122MA2H3K6J7L"

/// The county used by most tests (all money in 千元 as on the form):
///
/// | ent | r7      | r14 | r10 | r11 | r20 | status                | F2 = r7−r14−r10−r11+r20 |
/// |-----|---------|-----|-----|-----|-----|-----------------------|-------------------------|
/// | A   | 1000    | 100 | 50  | 20  | 300 | clean                 | 1130                    |
/// | B   | 500.5   | —   | —   | —   | —   | clean                 | 500.5 (nulls as 0)      |
/// | C   | 9999    | —   | —   | —   | —   | rejected (R102 error) | excluded                |
/// | D   | —       | —   | —   | —   | 100 | clean, no row 7       | skipped                 |
/// | E   | 0       | —   | —   | —   | —   | clean, rd_fte 2.5     | 0                       |
///
/// Σ r7 = 1000 + 500.5 + 0 = 1500.5 千元 = 0.015005 亿元; Σ F2 = 1130 + 500.5 + 0 = 1630.5 千元 = 0.016305 亿元.
private func loadCounty(_ w: RunWriter, gdp: Bool = true, employed: Bool = true, roster: Bool = true) throws {
    try w.insert(batch(.activity, [
        Row(uscc: A, line: 2, numbers: ["rd_exp_total": "1000", "rd_exp_outsourced": "100", "rd_exp_depreciation": "50",
                                        "rd_exp_intangible_amort": "20", "rd_new_fixed_assets": "300"]),
        Row(uscc: B, line: 3, numbers: ["rd_exp_total": "500.5", "rd_fte": "9"]),
        Row(uscc: C, line: 4, numbers: ["rd_exp_total": "9999"]),
        Row(uscc: D, line: 5, numbers: ["rd_new_fixed_assets": "100"]),
        Row(uscc: E, line: 6, numbers: ["rd_exp_total": "0", "rd_fte": "2.5"]),
    ]))
    // Projects (人月): A: 30 + 24 = 54; B: 6.5 on a project with its own error; C: 120 (enterprise rejected).
    try w.insert(batch(.projects, [
        Row(uscc: A, line: 2, numbers: ["person_months": "30"], texts: ["project_name": "P1"]),
        Row(uscc: A, line: 3, numbers: ["person_months": "24"], texts: ["project_name": "P2"]),
        Row(uscc: B, line: 4, numbers: ["person_months": "6.5"], texts: ["project_name": "P3"]),
        Row(uscc: C, line: 5, numbers: ["person_months": "120"], texts: ["project_name": "P4"]),
    ]))
    try w.insert(violations: [error(C, line: 4), error(B, line: 4, source: 1, project: "P3")])
    if roster {
        // Above-scale industrial: A, B (code without section letter), C, H → 4. F is not above scale,
        // G is wholesale (section F), so neither counts.
        try w.insert(batch(.roster, [
            Row(uscc: A, line: 2, texts: ["above_scale": "是"]),
            Row(uscc: B, line: 3, texts: ["above_scale": "是"], industry: "3841"),
            Row(uscc: C, line: 4, texts: ["above_scale": "是"], industry: "C3511"),
            Row(uscc: F, line: 5, texts: ["above_scale": "否"]),
            Row(uscc: G, line: 6, texts: ["above_scale": "是"], industry: "F5171"),
            Row(uscc: H, line: 7, texts: ["above_scale": "是"], industry: "C2000"),
            Row(uscc: A, line: 8, texts: ["above_scale": "是"]),   // listed twice: still one unit
        ]))
    }
    if gdp { try w.insert(macro("GDP", "163050", "万元")) }        // = 1 630 500 千元
    if employed { try w.insert(macro("EMPLOYED", "7", "万人")) }   // = 70 000 人
    try w.resolveResubmissions()
    try w.applyStatuses()
}

private func run(period: Int = 2023) -> RunInfo {
    RunInfo(pipeline: "county", regionCode: "330122", period: period, yingtongVersion: "test")
}

private func dec(_ s: String) -> Decimal { Decimal(string: s, locale: Locale(identifier: "en_US_POSIX"))! }

private extension Array where Element == IndicatorRow {
    subscript(_ code: String) -> IndicatorRow? { first { $0.code == code } }
}

@Suite("County indicators")
struct IndicatorTests {
    @Test func expenditureSumsAreExactAndExcludeRejected() throws {
        let store = try makeStore()
        let w = try store.beginRun(run())
        try loadCounty(w)
        let rows = try IndicatorEngine().computeAndStore(w, previous: nil)
        try w.commit()
        // Σ r7 over A, B, E = 1500.5 千元 → ÷ 100 000 = 0.015005 亿元 (C's 9999 is rejected, D has no r7).
        #expect(rows["rd_exp_cost_total"]?.value == dec("0.015005"))
        // Σ F2 = 1130 + 500.5 + 0 = 1630.5 千元 = 0.016305 亿元.
        #expect(rows["rd_exp"]?.value == dec("0.016305"))
        #expect(rows["rd_exp"]?.unit == "亿元")
        // Stored, and read back identically.
        #expect(try store.indicators(run: w.runID) == rows)
    }

    @Test func intensityUsesTheChosenExpenditure() throws {
        let store = try makeStore()
        let w = try store.beginRun(run())
        try loadCounty(w)
        // internal: 1630.5 千元 ÷ 1 630 500 千元 × 100 = 0.1 %.
        let internalRows = try IndicatorEngine().compute(w, previous: nil)
        #expect(internalRows["rd_intensity"]?.value == dec("0.1"))
        // cost_total: 1500.5 ÷ 1 630 500 × 100 = 0.09202698… → 0.092027 (6 places, half up).
        let costRows = try IndicatorEngine(settings: .init(rdExpenditure: .costTotal)).compute(w, previous: nil)
        #expect(costRows["rd_intensity"]?.value == dec("0.092027"))
        // Both expenditure indicators are reported whichever feeds the intensity.
        #expect(costRows["rd_exp"]?.value == dec("0.016305"))
        try w.rollback()
    }

    @Test func fteFromProjectsAndDirectValues() throws {
        let store = try makeStore()
        let w = try store.beginRun(run())
        try loadCounty(w)
        let rows = try IndicatorEngine().compute(w, previous: nil)
        // A: (30 + 24) ÷ 12 = 4.5; B's P3 is rejected (own error) and B has projects, so B's direct 9 is not used;
        // C is rejected; E has no projects, so its direct rd_fte 2.5 counts. 4.5 + 2.5 = 7 人年.
        #expect(rows["rd_fte"]?.value == dec("7"))
        // 7 人年 ÷ 70 000 人 × 10 000 = 1 人年/万人.
        #expect(rows["rd_fte_per_10k"]?.value == dec("1"))
        try w.rollback()
    }

    @Test func aboveScaleIndustrialActivity() throws {
        let store = try makeStore()
        let w = try store.beginRun(run())
        try loadCounty(w)
        let rows = try IndicatorEngine().compute(w, previous: nil)
        #expect(rows["ind_above_scale"]?.value == 4)
        // cost_positive: A (1000) and B (500.5); C is rejected, H has no record.
        #expect(rows["ind_rd_active"]?.value == 2)
        #expect(rows["ind_rd_active_share"]?.value == 50)      // 2 ÷ 4 × 100
        // has_valid_project: only A (B's only project is rejected, C is rejected) → 1 ÷ 4 × 100 = 25.
        let strict = try IndicatorEngine(settings: .init(rdActive: .hasValidProject)).compute(w, previous: nil)
        #expect(strict["ind_rd_active"]?.value == 1)
        #expect(strict["ind_rd_active_share"]?.value == 25)
        try w.rollback()
    }

    @Test func missingInputsGiveNullWithAReason() throws {
        let store = try makeStore()
        let w = try store.beginRun(run())
        try loadCounty(w, gdp: false, employed: false, roster: false)
        let rows = try IndicatorEngine().computeAndStore(w, previous: nil)
        try w.commit()
        #expect(rows.count == IndicatorDefinition.all.count)
        #expect(rows["rd_intensity"]?.value == nil)
        #expect(rows["rd_intensity"]?.note?.contains("缺少宏观数据 GDP") == true)
        #expect(rows["rd_fte_per_10k"]?.value == nil)
        #expect(rows["rd_fte_per_10k"]?.note?.contains("EMPLOYED") == true)
        #expect(rows["ind_above_scale"]?.value == nil)
        #expect(rows["ind_rd_active_share"]?.note?.contains("名录") == true)
        // What could be computed still is.
        #expect(rows["rd_exp"]?.value == dec("0.016305"))
        let stored = try store.indicators(run: w.runID)
        #expect(stored["rd_intensity"]?.value == nil)
        #expect(stored["rd_intensity"]?.note == rows["rd_intensity"]?.note)
    }

    @Test func anEmptyRunInventsNothing() throws {
        let store = try makeStore()
        let w = try store.beginRun(run())
        let rows = try IndicatorEngine().compute(w, previous: nil)
        #expect(rows.allSatisfy { $0.value == nil && $0.note != nil })
        try w.rollback()
    }

    @Test func previousChangeGrowthTargetAndCompletion() throws {
        let store = try makeStore()
        // Last year's run in the same store file: rd_exp 0.015 亿元, rd_intensity 0.08 %, rd_fte unknown.
        let w0 = try store.beginRun(run(period: 2022))
        try w0.insert(indicators: [
            IndicatorRow(regionCode: "330122", period: 2022, code: "rd_exp", nameZh: "R&D经费（内部支出口径）", value: dec("0.015"), unit: "亿元"),
            IndicatorRow(regionCode: "330122", period: 2022, code: "rd_intensity", nameZh: "R&D经费投入强度（占GDP比重）", value: dec("0.08"), unit: "%"),
            IndicatorRow(regionCode: "330122", period: 2022, code: "rd_fte", nameZh: "研发人员全时当量", value: nil, unit: "人年"),
            IndicatorRow(regionCode: "330123", period: 2022, code: "rd_exp", nameZh: "其他县", value: dec("99"), unit: "亿元"),
        ])
        try w0.commit()

        let w = try store.beginRun(run())
        try loadCounty(w)
        let engine = IndicatorEngine(settings: .init(targets: ["rd_intensity": dec("0.2"), "rd_exp": dec("0.02")]))
        let rows = try engine.computeAndStore(w, previous: PreviousStore(store: store))
        try w.commit()

        let exp = try #require(rows["rd_exp"])
        #expect(exp.prevValue == dec("0.015"))
        #expect(exp.change == dec("0.001305"))            // 0.016305 − 0.015
        #expect(exp.changeUnit == "亿元")
        #expect(exp.growthRate == dec("8.7"))             // (0.016305 ÷ 0.015 − 1) × 100
        #expect(exp.target == dec("0.02"))
        #expect(exp.completionRate == dec("81.525"))      // 0.016305 ÷ 0.02 × 100
        #expect(exp.rank == nil)

        let intensity = try #require(rows["rd_intensity"])
        #expect(intensity.prevValue == dec("0.08"))
        #expect(intensity.change == dec("0.02"))          // 0.1 − 0.08 percentage points
        #expect(intensity.changeUnit == "个百分点")
        #expect(intensity.growthRate == nil, "占比类指标不计算增长率")
        #expect(intensity.completionRate == 50)           // 0.1 ÷ 0.2 × 100

        let fte = try #require(rows["rd_fte"])
        #expect(fte.prevValue == nil)
        #expect(fte.change == nil)
        #expect(fte.growthRate == nil)
        #expect(try store.runs().count == 2)
    }

    @Test func previousFromAnotherFileOpenedReadOnly() throws {
        let old = try makeStore()
        let w0 = try old.beginRun(run(period: 2022))
        try w0.insert(indicators: [IndicatorRow(regionCode: "330122", period: 2022, code: "rd_fte",
                                                nameZh: "研发人员全时当量", value: dec("5"), unit: "人年")])
        try w0.commit()
        try old.close()
        #expect(try PreviousStore(path: old.path + ".missing") == nil)
        let previous = try #require(try PreviousStore(path: old.path))
        #expect(throws: YingtongError.self) { _ = try previous.store.beginRun(run()) }

        let store = try makeStore()
        let w = try store.beginRun(run())
        try loadCounty(w)
        let rows = try IndicatorEngine().computeAndStore(w, previous: previous)
        try w.commit()
        // 7 人年 now, 5 last year: +2 人年, (7 ÷ 5 − 1) × 100 = 40 %.
        #expect(rows["rd_fte"]?.prevValue == 5)
        #expect(rows["rd_fte"]?.change == 2)
        #expect(rows["rd_fte"]?.growthRate == 40)
        #expect(rows["rd_exp"]?.prevValue == nil)
    }

    @Test func csvIsPlainUTF8WithEscapedCells() throws {
        let rows = [
            IndicatorRow(regionCode: "330122", period: 2023, code: "rd_exp", nameZh: "R&D经费（内部支出口径）",
                         value: dec("0.016305"), unit: "亿元", prevValue: dec("0.02"), change: dec("-0.003695"),
                         changeUnit: "亿元", growthRate: dec("-18.475")),
            IndicatorRow(regionCode: "330122", period: 2023, code: "rd_intensity", nameZh: "R&D经费投入强度（占GDP比重）",
                         value: nil, unit: "%", changeUnit: "个百分点", note: "=缺少宏观数据 GDP, \"SDMX\""),
        ]
        let csv = IndicatorCSV.text(rows)
        #expect(!csv.hasPrefix("\u{FEFF}"))
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines[0] == "region_code,period,code,name_zh,value,unit,prev_value,change,change_unit,growth_rate,target,completion_rate,rank,note")
        #expect(lines[1] == "330122,2023,rd_exp,R&D经费（内部支出口径）,0.016305,亿元,0.02,-0.003695,亿元,-18.475,,,,")
        #expect(lines[2] == "330122,2023,rd_intensity,R&D经费投入强度（占GDP比重）,,%,,,个百分点,,,,,\"'=缺少宏观数据 GDP, \"\"SDMX\"\"\"")
    }
}
