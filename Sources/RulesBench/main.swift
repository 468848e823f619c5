// Benchmark for the rule engine (GUIDE "Habits": timed work runs in release, outside the tests).
// Builds N synthetic enterprises (default 1,000,000) with ~2 projects each, in batches of 4096, then runs the
// full catalogue with bindings for previous year, roster revenue and the 高企 list, and prints records/s.
import Foundation
import YingtongModel
import YingtongRules

struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
}

let args = CommandLine.arguments
let total = args.count > 1 ? Int(args[1]) ?? 1_000_000 : 1_000_000
let batchSize = 4096
let catalogue = args.count > 2 ? args[2] : "pipelines/rules/rd-catalogue.yaml"
let dict = FieldDictionary.standard
let activityFields = dict.fields(of: .activity)
let projectFields = dict.fields(of: .projects)

/// A valid USCC whose embedded organisation code is valid too (most real ones are).
func uscc(_ i: Int) -> String {
    let chars = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    var org = ""
    var x = i
    for _ in 0..<8 { org.append(chars[x % 31]); x /= 31 }
    let check = OrgCode.checkChar(Array(org.utf8)).map { String(UnicodeScalar($0)) } ?? "0"
    return USCC.complete("91330782" + org + check) ?? "91330782" + org + check + "0"
}

let names = ["高精度伺服阀芯加工工艺研究", "新能源汽车电机控制算法开发", "智能仓储调度系统研发", "年产5万台电机技改项目",
             "新型环保涂层材料研究", "基于PLC的自动化控制系统研究", "高效换热器传热结构优化", "医用导管成型工艺研究"]

print("生成 \(total) 家企业的合成数据（每批 \(batchSize) 家）…")
let genStart = Date()
var rng = SplitMix64(state: 42)
var batches: [EnterpriseBatch] = []
var prev: [String: Milli] = [:]
var revenue: [String: Milli] = [:]
var hte = Set<String>()
var made = 0
while made < total {
    let n = min(batchSize, total - made)
    var act = RecordBatch(form: .activity, formVersion: "2021", fields: activityFields, capacity: n)
    var proj = RecordBatch(form: .projects, formVersion: "2021", fields: projectFields, capacity: n * 2)
    var ranges: [Range<Int>] = []
    for k in 0..<n {
        let id = uscc(made + k)
        act.uscc.append(id); act.name.append("合成企业\(made + k)"); act.regionCode.append("330782")
        act.industryCode.append("C3841"); act.period.append(2023); act.submittedAt.append(nil)
        act.sequence.append(Int64(made + k)); act.status.append(.clean)
        act.provenance.append(Provenance(sourceIndex: 0, line: Int32(k + 2), lineEnd: Int32(k + 2), byteOffset: 0))
        let staff = rng.int(3...120)
        let labor = staff * rng.int(60...200)
        let parts = [labor, rng.int(100...5000), rng.int(0...800), rng.int(0...300), rng.int(0...400), rng.int(0...300), 0, rng.int(0...200)]
        var exp = parts.reduce(0, +)
        if rng.chance(0.02) { exp += rng.int(5...50) }            // R102 imbalance in 2% of records
        let gov = rng.int(0...exp / 5)
        var values: [String: Int] = [
            "rd_staff_total": staff, "rd_staff_mgmt_service": staff / 6, "rd_staff_female": staff / 3,
            "rd_staff_fulltime": staff * 4 / 5, "rd_staff_bachelor_plus": staff / 2, "rd_staff_external": staff / 20,
            "rd_exp_total": exp, "rd_exp_labor": parts[0], "rd_exp_direct": parts[1], "rd_exp_depreciation": parts[2],
            "rd_exp_intangible_amort": parts[3], "rd_exp_design": parts[4], "rd_exp_equip_test": parts[5],
            "rd_exp_outsourced": 0, "rd_exp_out_research_inst": 0, "rd_exp_out_university": 0, "rd_exp_out_enterprise": 0,
            "rd_exp_out_overseas": 0, "rd_exp_other": parts[7],
            "rd_new_fixed_assets": rng.int(0...2000), "rd_fund_government": gov, "rd_fund_self": exp - gov,
            "rd_fund_bank_loan": 0, "rd_fund_venture": 0, "rd_fund_other": 0,
            "tax_superded_rd_exp": exp, "tax_superded_relief": exp / 5, "tax_hnte_relief": 0,
            "inst_count_eoy": rng.chance(0.4) ? 1 : 0, "patent_apps": rng.int(0...20), "sci_papers": rng.int(0...5),
            "patents_invention_valid_eoy": rng.int(0...30), "new_product_sales": rng.int(0...100_000),
        ]
        values["rd_new_fixed_assets_equip"] = values["rd_new_fixed_assets"]! / 2
        values["patent_apps_invention"] = values["patent_apps"]! / 3
        values["patents_invention_in_use"] = values["patents_invention_valid_eoy"]! / 2
        values["new_product_sales_export"] = values["new_product_sales"]! / 5
        if values["inst_count_eoy"]! > 0 {
            values["inst_rd_staff"] = staff / 2; values["inst_rd_staff_phd"] = staff / 20; values["inst_rd_staff_master"] = staff / 10
            values["inst_rd_exp"] = exp / 2; values["inst_equipment_value_eoy"] = rng.int(100...9000)
        }
        for c in act.columns.indices {
            if let v = values[act.columns[c].field.code] { act.columns[c].append(Milli(units: Int64(v))) } else { act.columns[c].appendMissing() }
        }
        prev[id] = Milli(units: Int64(rng.chance(0.01) ? exp / 1000 + 1 : exp * rng.int(80...120) / 100))
        revenue[id] = Milli(units: Int64(exp * rng.int(5...60)))
        if rng.chance(0.25) {
            if !rng.chance(0.02) { hte.insert(id) }          // 2% claim 高企 relief without being listed (R219)
            act.columns[act.columnPosition("tax_hnte_relief")!].numbers[k] = Milli(units: Int64(rng.int(1...500))).raw
        }
        let start = proj.count
        let projects = rng.chance(0.03) ? 0 : rng.int(1...3)
        var pmLeft = staff * 10
        for j in 0..<projects {
            proj.uscc.append(id); proj.name.append(nil); proj.regionCode.append("330782"); proj.industryCode.append("C3841")
            proj.period.append(2023); proj.submittedAt.append(nil); proj.sequence.append(Int64(proj.count)); proj.status.append(.clean)
            proj.provenance.append(Provenance(sourceIndex: 1, line: Int32(proj.count + 2), lineEnd: Int32(proj.count + 2), byteOffset: 0))
            let pstaff = max(2, staff / projects)
            let pm = min(pmLeft, pstaff * rng.int(6...11)); pmLeft -= pm
            let pexp = exp * 9 / 10 / max(1, projects)
            let pgov = j == projects - 1 ? gov - gov / max(1, projects) * (projects - 1) : gov / max(1, projects)
            let startYM = [202101, 202203, 202301, 202306][rng.int(0...3)]
            let texts: [String: String] = [
                "project_name": (rng.chance(0.05) ? names[3 + 2 * rng.int(0...1)] : names[[0, 1, 2, 4, 6, 7][rng.int(0...5)]])
                    + (j > 0 && rng.chance(0.999) ? "（\(j)）" : ""),
                "source": "1", "mode": "10", "result_form": rng.chance(0.05) ? "03" : ["13", "07", "12", "09"][rng.int(0...3)],
                "target": rng.chance(0.05) ? "\(rng.int(5...9))" : "\(rng.int(1...4))",
                "start_ym": "\(startYM)", "end_ym": "\([202312, 202406, 202512][rng.int(0...2)])", "stage": rng.chance(0.8) ? "2" : "",
            ]
            let nums: [String: Int] = ["staff": pstaff, "person_months": pm, "exp": pexp, "exp_gov": pgov,
                                       "exp_inhouse": pexp, "exp_contracted": 0]
            for c in proj.columns.indices {
                let code = proj.columns[c].field.code
                if let v = nums[code] { proj.columns[c].append(Milli(units: Int64(v))) }
                else if let t = texts[code], !t.isEmpty { proj.columns[c].append(text: t) }
                else { proj.columns[c].appendMissing() }
            }
        }
        ranges.append(start..<proj.count)
    }
    batches.append(EnterpriseBatch(activity: act, projects: proj, projectRanges: ranges))
    made += n
}
let projectsTotal = batches.reduce(0) { $0 + $1.projects.count }
print(String(format: "生成耗时 %.1f s；企业 %d，项目 %d", Date().timeIntervalSince(genStart), total, projectsTotal))

let pack = try RulePack.load(path: catalogue)
let engine = try RuleEngine(pack: pack)
let bindings = TableBindings(previousValues: ["rd_exp_total": prev], registries: ["hte": hte], lookups: ["roster.revenue": revenue])
print("规则包 \(pack.name) \(pack.version)（\(pack.rules.count) 条规则，sha256 \(pack.sha256.prefix(12))…）")

var summary: RuleSummary?
var groups = engine.makeGroupState()
var violations = 0
/// CPU seconds of this process: the machine is shared, so wall time alone overstates the cost.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}
let cpuStart = cpuSeconds()
let clock = ContinuousClock()
let elapsed = clock.measure {
    for b in batches {
        let r = engine.evaluate(b, bindings: bindings, groups: &groups)
        violations += r.violations.count
        if summary == nil { summary = r.summary } else { summary!.merge(r.summary) }
    }
    let g = engine.finish(groups)
    violations += g.violations.count
    summary!.merge(g.summary)
}
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let cpu = cpuSeconds() - cpuStart
print(String(format: "全部规则一遍：墙钟 %.2f s，CPU %.2f s；按 CPU 计 %.0f 家企业/秒（%.0f 条记录/秒，含项目）；按墙钟 %.0f 家企业/秒；违规事件 %d 条",
             seconds, cpu, Double(total) / cpu, Double(total + projectsTotal) / cpu, Double(total) / seconds, violations))
for c in summary!.rules.sorted(by: { $0.failed > $1.failed }).prefix(8) {
    print("  \(c.rule): 通过 \(c.passed)，不通过 \(c.failed)，不适用 \(c.notApplicable)")
}
