import Foundation
import GRDB
import YingtongModel
import YingtongStore

extension IndicatorDefinition {
    public static let rdInstitutionCoverage = IndicatorDefinition(code: "rd_institution_coverage",
                                                                  nameZh: "规上工业企业研发机构覆盖率", unit: "%")
    public static let hteCount = IndicatorDefinition(code: "hte_count", nameZh: "高新技术企业总数", unit: "家")
    public static let hteNew = IndicatorDefinition(code: "hte_new", nameZh: "当年新增高新技术企业数", unit: "家")
    public static let tsmeCount = IndicatorDefinition(code: "tsme_count", nameZh: "国家科技型中小企业入库数", unit: "家")
    public static let techContractCount = IndicatorDefinition(code: "tech_contract_count", nameZh: "技术合同登记数（输出）", unit: "项")
    public static let techContractAmount = IndicatorDefinition(code: "tech_contract_amount", nameZh: "技术合同成交额（输出）", unit: "亿元")
    public static let techContractIncome = IndicatorDefinition(code: "tech_contract_income", nameZh: "技术交易额（输出）", unit: "亿元")
    public static let techContractFirms = IndicatorDefinition(code: "tech_contract_firms", nameZh: "登记技术合同的企业数（卖方）", unit: "家")
    public static let omissionCount = IndicatorDefinition(code: "omission_count", nameZh: "应统尽统排查：疑似漏统企业数", unit: "家")
    public static let omissionAmount = IndicatorDefinition(code: "omission_amount", nameZh: "应统尽统排查：估计漏统金额", unit: "万元")
    public static let htePool = IndicatorDefinition(code: "hte_pool", nameZh: "高企培育库入库数", unit: "家")
    public static let hteRecommended = IndicatorDefinition(code: "hte_recommended", nameZh: "推荐申报高新技术企业数", unit: "家")
    public static let htePassed = IndicatorDefinition(code: "hte_passed", nameZh: "通过专家评审和税务核查的企业数", unit: "家")
    public static let tsmeRecommended = IndicatorDefinition(code: "tsme_recommended", nameZh: "推荐申报国家科技型中小企业数", unit: "家")
    public static let techLoanFirms = IndicatorDefinition(code: "tech_loan_firms", nameZh: "获科技成果转化贷款企业数", unit: "家")
    public static let techLoanAmount = IndicatorDefinition(code: "tech_loan_amount", nameZh: "科技成果转化贷款金额", unit: "万元")
    public static let platformCount = IndicatorDefinition(code: "platform_count", nameZh: "孵化载体、科创平台数", unit: "个")
}

extension IndicatorEngine {
    /// The indicators that come from other providers' lists (DOMAIN §2.1) and from the 应统尽统 list. A list the
    /// run did not receive gives no figure, with the note naming the missing source — never a zero.
    ///
    /// - rd_institution_coverage = 规上工业 units whose 107-2 row 22 (期末机构数) > 0 ÷ 规上工业 units × 100 (F7 sibling).
    /// - hte_count: 高企 whose certificate is valid in the year (issued in it or the two before); hte_new: issued in it.
    /// - tsme_count: the year's 入库 list.
    /// - tech_contract_*: contracts registered in the year, attributed to the seller's region (输出, F9): a contract
    ///   registered with another region's code is not this county's, even in a county run; 成交额 and 技术交易额
    ///   kept apart; firms = distinct sellers.
    /// - omission_count / omission_amount: the run's 应统尽统排查清单 (estimate in 万元).
    ///
    /// Registry rows carry a region when the list has one; otherwise the roster's region of the same USCC decides
    /// which county of a city run a row belongs to.
    func registryIndicators(db: Database, tables: IndicatorTables, scope: RegionScope, run: Int64,
                            period: Int) throws -> [Computed] {
        var out: [Computed] = []
        func count(_ table: String) throws -> Int {
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE run_id = ?", arguments: [run]) ?? 0
        }
        // The region of a registry row `g` keyed by `key`: its own, else the roster's.
        func inScope(_ g: String, key: String) -> String {
            """
            (?3 IS NULL OR COALESCE(\(g).region_code, (SELECT ro.region_code FROM \(Queries.roster)
                                                       WHERE ro.run_id = \(g).run_id AND ro.uscc = \(g).\(key) LIMIT 1)) LIKE ?3)
            """
        }
        let args: StatementArguments = [run, period, scope.pattern]

        // ── 研发机构覆盖率 ──
        let above = try tables.units(industrial: true)
        if above == 0 {
            out.append(Computed(.rdInstitutionCoverage, value: nil, note: "名录中没有规上工业企业"))
        } else {
            let withInstitute = try tables.units(industrial: true, where: """
                EXISTS (SELECT 1 FROM yt_ind_record r WHERE r.uscc = u.uscc AND r.period = ?2 AND r.live_inst)
                """)
            out.append(Computed(.rdInstitutionCoverage, value: round(Decimal(withInstitute) / Decimal(above) * 100),
                                note: "有研发机构（第22行期末机构数>0）\(withInstitute) 家 ÷ 规上工业企业 \(above) 家"))
        }

        // ── 高企 ──
        if try count("registry_hte") == 0 {
            out.append(Computed(.hteCount, value: nil, note: "缺少高新技术企业名单（registry.hte）"))
            out.append(Computed(.hteNew, value: nil, note: "缺少高新技术企业名单（registry.hte）"))
        } else {
            let year = "CAST(substr(g.hte_issued_on, 1, 4) AS INTEGER)"
            let total = try Int.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT g.uscc) FROM registry_hte g
                WHERE \(RunRange.condition("registry_hte", alias: "g")) AND \(year) BETWEEN ?2 - 2 AND ?2 AND \(inScope("g", key: "uscc"))
                """, arguments: args) ?? 0
            let new = try Int.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT g.uscc) FROM registry_hte g
                WHERE \(RunRange.condition("registry_hte", alias: "g")) AND \(year) = ?2 AND \(inScope("g", key: "uscc"))
                """, arguments: args) ?? 0
            out.append(Computed(.hteCount, value: Decimal(total), note: "证书有效期三年：发证年度在 \(period - 2)–\(period)"))
            out.append(Computed(.hteNew, value: Decimal(new), note: "发证年度为 \(period)"))
        }

        // ── 科技型中小企业 ──
        if try count("registry_tsme") == 0 {
            out.append(Computed(.tsmeCount, value: nil, note: "缺少科技型中小企业入库名单（registry.tsme）"))
        } else {
            let n = try Int.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT g.uscc) FROM registry_tsme g
                WHERE \(RunRange.condition("registry_tsme", alias: "g")) AND g.period = ?2 AND \(inScope("g", key: "uscc"))
                """, arguments: args) ?? 0
            out.append(Computed(.tsmeCount, value: Decimal(n), note: nil))
        }

        // ── 技术合同（输出：卖方所在地）──
        let contracts = [IndicatorDefinition.techContractCount, .techContractAmount, .techContractIncome, .techContractFirms]
        if try count("registry_tech_contract") == 0 {
            for d in contracts { out.append(Computed(d, value: nil, note: "缺少技术合同登记数据（registry.tech_contract）")) }
        } else {
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS n, SUM(g.contract_amount) AS amount, SUM(g.tech_income) AS income,
                       COUNT(DISTINCT NULLIF(g.seller_uscc, '')) AS firms
                FROM registry_tech_contract g
                WHERE \(RunRange.condition("registry_tech_contract", alias: "g")) AND CAST(substr(g.registered_on, 1, 4) AS INTEGER) = ?2
                  AND \(inScope("g", key: "seller_uscc"))
                  AND (g.region_code IS NULL OR g.region_code LIKE ?4)
                """, arguments: [run, period, scope.pattern, RegionScope.prefix(of: scope.code) + "%"])
            let note = "登记年度 \(period)，按卖方所在地（输出）"
            out.append(Computed(.techContractCount, value: Decimal(row?["n"] as Int? ?? 0), note: note))
            out.append(Computed(.techContractAmount, value: yuanToYi(row?["amount"] as Int64? ?? 0), note: note))
            out.append(Computed(.techContractIncome, value: yuanToYi(row?["income"] as Int64? ?? 0), note: note))
            out.append(Computed(.techContractFirms, value: Decimal(row?["firms"] as Int? ?? 0), note: note))
        }

        // ── 高企培育漏斗、科技型中小企业申报、成果转化贷款、平台（可选名单）──
        // A unit's row names the furthest stage it reached: every later stage passed through the earlier ones.
        if try count("registry_hte_candidates") == 0 {
            for d in [IndicatorDefinition.htePool, .hteRecommended, .htePassed] {
                out.append(Computed(d, value: nil, note: "缺少高企培育与申报名单（registry.hte_candidates）"))
            }
        } else {
            func stages(_ names: [String]) throws -> Int {
                try Int.fetchOne(db, sql: """
                    SELECT COUNT(DISTINCT g.uscc) FROM registry_hte_candidates g
                    WHERE \(RunRange.condition("registry_hte_candidates", alias: "g")) AND g.period = ?2 AND \(inScope("g", key: "uscc"))
                      AND g.hte_stage IN (\(names.map { "'\($0)'" }.joined(separator: ",")))
                    """, arguments: args) ?? 0
            }
            let funnel = ["培育库", "推荐申报", "通过评审", "认定"]
            out.append(Computed(.htePool, value: Decimal(try stages(funnel)), note: "阶段为培育库及以后"))
            out.append(Computed(.hteRecommended, value: Decimal(try stages(Array(funnel.dropFirst()))), note: "阶段为推荐申报及以后"))
            out.append(Computed(.htePassed, value: Decimal(try stages(Array(funnel.dropFirst(2)))), note: "阶段为通过评审或认定"))
        }
        if try count("registry_tsme_applications") == 0 {
            out.append(Computed(.tsmeRecommended, value: nil, note: "缺少科技型中小企业申报名单（registry.tsme_applications）"))
        } else {
            let n = try Int.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT g.uscc) FROM registry_tsme_applications g
                WHERE \(RunRange.condition("registry_tsme_applications", alias: "g")) AND g.period = ?2 AND \(inScope("g", key: "uscc"))
                  AND g.tsme_status IN ('推荐申报', '入库')
                """, arguments: args) ?? 0
            out.append(Computed(.tsmeRecommended, value: Decimal(n), note: "状态为推荐申报或入库（入库数即 tsme_count）"))
        }
        if try count("registry_tech_loan") == 0 {
            for d in [IndicatorDefinition.techLoanFirms, .techLoanAmount] {
                out.append(Computed(d, value: nil, note: "缺少科技成果转化贷款数据（registry.tech_loan）"))
            }
        } else {
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT g.uscc) AS n, SUM(g.tech_loan_amount) AS amount FROM registry_tech_loan g
                WHERE \(RunRange.condition("registry_tech_loan", alias: "g")) AND g.period = ?2 AND \(inScope("g", key: "uscc"))
                """, arguments: args)
            out.append(Computed(.techLoanFirms, value: Decimal(row?["n"] as Int? ?? 0), note: nil))
            out.append(Computed(.techLoanAmount, value: Decimal(row?["amount"] as Int64? ?? 0) / 10_000, note: nil))
        }
        if try count("registry_platform") == 0 {
            out.append(Computed(.platformCount, value: nil, note: "缺少孵化载体与科创平台名单（registry.platform）"))
        } else {
            let rows = try Row.fetchAll(db, sql: """
                SELECT g.platform_kind AS kind, g.platform_level AS level, COUNT(*) AS n FROM registry_platform g
                WHERE \(RunRange.condition("registry_platform", alias: "g")) AND g.period = ?2 AND (g.region_code IS NULL OR g.region_code LIKE ?3)
                GROUP BY g.platform_kind, g.platform_level ORDER BY g.platform_kind, g.platform_level
                """, arguments: [run, period, RegionScope.prefix(of: scope.code) + "%"])
            let total = rows.reduce(0) { $0 + ($1["n"] as Int) }
            let detail = rows.map { "\(($0["kind"] as String?) ?? "未分类")\(($0["level"] as String?) ?? "") \($0["n"] as Int)" }
            out.append(Computed(.platformCount, value: Decimal(total), note: "按类型与级别：" + detail.joined(separator: "，")))
        }

        // ── 应统尽统排查 ──
        let omission = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS n, SUM(o.estimated_missing) AS amount FROM omission o INDEXED BY omission_uscc
            WHERE o.run_id = ?1 AND o.period = ?2 AND \(Queries.inScope("o"))
            """, arguments: args)
        if !settings.omissionListBuilt && (omission?["n"] as Int? ?? 0) == 0 {
            out.append(Computed(.omissionCount, value: nil, note: "本次运行没有应统尽统规则（worklist: omission）"))
            out.append(Computed(.omissionAmount, value: nil, note: "本次运行没有应统尽统规则（worklist: omission）"))
        } else {
            out.append(Computed(.omissionCount, value: Decimal(omission?["n"] as Int? ?? 0), note: nil))
            // 元 → 万元 exactly.
            out.append(Computed(.omissionAmount, value: Decimal(omission?["amount"] as Int64? ?? 0) / 10_000,
                                note: "各来源证据差额中最大者之和（见应统尽统排查清单）"))
        }
        return out
    }
}
