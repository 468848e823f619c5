import Foundation
import Testing
import YingtongModel
@testable import YingtongRules

/// The repository root (tests run from anywhere), to load `pipelines/rules`.
let repoRoot: URL = {
    var u = URL(fileURLWithPath: #filePath)
    while u.path != "/" {
        u.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: u.appendingPathComponent("Package.swift").path) { return u }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}()

let cataloguePath = repoRoot.appendingPathComponent("pipelines/rules/rd-catalogue.yaml").path

/// Builds record batches from field → value text maps, through the same parsers the pipeline uses.
enum Build {
    static let dict = FieldDictionary.standard

    static func records(_ form: Form, _ rows: [[String: String]], period: Int = 2023) -> RecordBatch {
        var b = RecordBatch(form: form, formVersion: "2021", fields: dict.fields(of: form), capacity: rows.count)
        for (i, row) in rows.enumerated() {
            b.uscc.append(row["uscc"] ?? "91330782MA2A7K5N23")
            b.name.append(row["name"] ?? "义乌市测试机械有限公司")
            b.regionCode.append(row["region_code"] ?? "330782")
            b.industryCode.append(row["industry_code"] ?? "C3841")
            b.period.append(row["period"].flatMap { Int($0) } ?? period)
            b.submittedAt.append(nil)
            b.sequence.append(Int64(i))
            b.provenance.append(Provenance(sourceIndex: 0, line: Int32(i + 2), lineEnd: Int32(i + 2), byteOffset: 0))
            b.status.append(.clean)
            for c in b.columns.indices {
                let f = b.columns[c].field
                guard let text = row[f.code], text != "" else { b.columns[c].appendMissing(); continue }
                if f.type.isNumeric {
                    guard let m = NumberText.parse(text) else { b.columns[c].appendMissing(); continue }
                    b.columns[c].append(m)
                } else {
                    b.columns[c].append(text: text)
                }
            }
        }
        return b
    }

    /// One enterprise per entry, each with its projects.
    static func batch(_ enterprises: [(activity: [String: String], projects: [[String: String]])]) -> EnterpriseBatch {
        let act = records(.activity, enterprises.map(\.activity))
        var rows: [[String: String]] = []
        var ranges: [Range<Int>] = []
        for (i, e) in enterprises.enumerated() {
            let start = rows.count
            for p in e.projects {
                var p = p
                p["uscc"] = p["uscc"] ?? e.activity["uscc"]
                p["period"] = p["period"] ?? e.activity["period"]
                rows.append(p)
            }
            _ = i
            ranges.append(start..<rows.count)
        }
        return EnterpriseBatch(activity: act, projects: records(.projects, rows), projectRanges: ranges)
    }
}

/// A realistic enterprise that passes every rule of the catalogue (money in 千元).
enum Baseline {
    static let uscc = "91330782MA2A7K5N23"
    static let activity: [String: String] = [
        "uscc": uscc, "period": "2023", "region_code": "330782", "industry_code": "C3841",
        "rd_staff_total": "35", "rd_staff_mgmt_service": "5", "rd_staff_female": "10", "rd_staff_fulltime": "30",
        "rd_staff_bachelor_plus": "20", "rd_staff_external": "2",
        "rd_exp_total": "5000", "rd_exp_labor": "2400", "rd_exp_direct": "1800", "rd_exp_depreciation": "300",
        "rd_exp_intangible_amort": "100", "rd_exp_design": "200", "rd_exp_equip_test": "150", "rd_exp_outsourced": "0",
        "rd_exp_out_research_inst": "0", "rd_exp_out_university": "0", "rd_exp_out_enterprise": "0", "rd_exp_out_overseas": "0",
        "rd_exp_other": "50",
        "rd_new_fixed_assets": "800", "rd_new_fixed_assets_equip": "600",
        "rd_fund_self": "4200", "rd_fund_government": "500", "rd_fund_bank_loan": "300", "rd_fund_venture": "0", "rd_fund_other": "0",
        "tax_superded_rd_exp": "4800", "tax_superded_relief": "1200", "tax_hnte_relief": "800",
        "inst_count_eoy": "1", "inst_rd_staff": "15", "inst_rd_staff_phd": "2", "inst_rd_staff_master": "6",
        "inst_rd_exp": "3000", "inst_equipment_value_eoy": "5000",
        "patent_apps": "8", "patent_apps_invention": "3", "patents_invention_valid_eoy": "12", "patents_invention_in_use": "6",
        "patent_transfer_count": "0", "patent_transfer_income": "0", "new_product_sales": "50000", "new_product_sales_export": "10000",
        "trademarks_eoy": "5", "sci_papers": "2", "standards_formed": "1",
        "tech_renovation_exp": "0", "tech_buy_domestic_exp": "0", "tech_import_exp": "0", "tech_import_assim_exp": "0",
        "overseas_rd_inst_count": "0",
    ]
    static let projects: [[String: String]] = [
        ["project_name": "高精度伺服阀芯加工工艺研究", "source": "1", "mode": "10", "result_form": "13", "target": "4",
         "start_ym": "202203", "end_ym": "202406", "stage": "2", "staff": "8", "person_months": "60",
         "exp": "3200", "exp_gov": "300", "exp_inhouse": "3200", "exp_contracted": "0"],
        ["project_name": "新能源汽车电机控制算法开发", "source": "1", "mode": "10", "result_form": "07", "target": "3",
         "start_ym": "202301", "end_ym": "202312", "staff": "6", "person_months": "48",
         "exp": "1500", "exp_gov": "200", "exp_inhouse": "1500", "exp_contracted": "0"],
    ]
    /// Every registry lists the baseline enterprise with figures that agree with its report (应统尽统 rules
    /// pass); the tech-development buyer list does not name it (it outsources nothing).
    static let registryValues: [String: [String: String]] = [
        "roster": ["revenue": "120000", "above_scale": "1"], "hte": [:], "tsme": [:],
        "tax_deduction": ["rd_deduction_base": "5200"], "tech_dev_seller": ["contract_amount": "300"],
        "rd_institution_provincial": [:], "patent": ["invention_apps": "2"], "torch": ["rd_exp_total": "5100"],
        "gov_funding": ["gov_fund_amount": "400"],
    ]

    static func bindings(registries: [String: [String: String]], uscc: String, previous: Milli?) -> TableBindings {
        var b = TableBindings(previousValues: previous.map { ["rd_exp_total": [uscc: $0]] } ?? [:])
        for (registry, values) in registries {
            b.registries[registry] = [uscc]
            for (field, v) in values { b.lookups["\(registry).\(field)"] = [uscc: NumberText.parse(v)!] }
            b.lookups["\(registry).rows"] = [uscc: Milli(units: 1)]
        }
        return b
    }

    static let bindings = Baseline.bindings(registries: registryValues, uscc: uscc, previous: Milli(units: 4500))
}

let catalogue: RulePack = {
    do { return try RulePack.load(path: cataloguePath) } catch {
        Issue.record("目录加载失败：\(error)")
        return RulePack(name: "empty", version: "0", rules: [])
    }
}()

let catalogueEngine: RuleEngine = {
    do { return try RuleEngine(pack: catalogue) } catch {
        Issue.record("目录编译失败：\(error)")
        return try! RuleEngine(pack: RulePack(name: "empty", version: "0", rules: []))
    }
}()
