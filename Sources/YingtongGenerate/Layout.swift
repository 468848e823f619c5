/// The 107-2 columns as the printed form labels them (with ordinals and "其中：", as enterprises' files do),
/// in form order. These are the same labels as fixtures/demo-county; each resolves to exactly one dictionary
/// field (tested), so the readers are exercised on real headers, not on field codes.
enum Layout {
    enum Kind { case count, money }

    struct Column {
        let code: String
        let label: String
        let kind: Kind
        /// Header unit for money: 千元 unless stated; written into the label when `headerUnit` is set.
        let headerUnit: String?
    }

    // (code, label, kind)
    static let rows107_2: [(String, String, Kind)] = [
        ("rd_staff_total", "研究开发人员合计", .count), ("rd_staff_mgmt_service", "其中：管理和服务人员", .count),
        ("rd_staff_female", "其中：女性", .count), ("rd_staff_fulltime", "其中：全职人员", .count),
        ("rd_staff_bachelor_plus", "其中：本科毕业及以上人员", .count), ("rd_staff_external", "其中：外聘人员", .count),
        ("rd_exp_total", "研究开发费用合计", .money), ("rd_exp_labor", "1.人员人工费用", .money),
        ("rd_exp_direct", "2.直接投入费用", .money), ("rd_exp_depreciation", "3.折旧费用与长期待摊费用", .money),
        ("rd_exp_intangible_amort", "4.无形资产摊销费用", .money), ("rd_exp_design", "5.设计费用", .money),
        ("rd_exp_equip_test", "6.装备调试费用与试验费用", .money),
        ("rd_exp_outsourced", "7.委托外部研究开发费用", .money),
        ("rd_exp_out_research_inst", "①委托境内研究机构", .money), ("rd_exp_out_university", "②委托境内高等学校", .money),
        ("rd_exp_out_enterprise", "③委托境内企业", .money), ("rd_exp_out_overseas", "④委托境外机构", .money),
        ("rd_exp_other", "8.其他费用", .money),
        ("rd_new_fixed_assets", "当年形成用于研究开发的固定资产", .money),
        ("rd_new_fixed_assets_equip", "其中：仪器和设备", .money),
        ("rd_fund_self", "1.来自企业自筹", .money), ("rd_fund_government", "2.来自政府部门", .money),
        ("rd_fund_bank_loan", "3.来自银行贷款", .money), ("rd_fund_venture", "4.来自风险投资", .money),
        ("rd_fund_other", "5.来自其他渠道", .money),
        ("tax_superded_rd_exp", "申报加计扣除减免税的研究开发支出", .money),
        ("tax_superded_relief", "加计扣除减免税金额", .money), ("tax_hnte_relief", "高新技术企业减免税金额", .money),
        ("inst_count_eoy", "期末机构数", .count), ("inst_rd_staff", "机构研究开发人员", .count),
        ("inst_rd_staff_phd", "其中：博士毕业", .count), ("inst_rd_staff_master", "硕士毕业", .count),
        ("inst_rd_exp", "机构研究开发费用", .money), ("inst_equipment_value_eoy", "期末仪器和设备原价", .money),
        ("patent_apps", "当年专利申请数", .count), ("patent_apps_invention", "其中：发明专利", .count),
        ("patents_invention_valid_eoy", "期末有效发明专利数", .count), ("patents_invention_in_use", "其中：已被实施", .count),
        ("patent_transfer_count", "专利所有权转让及许可数", .count),
        ("patent_transfer_income", "专利所有权转让及许可收入", .money),
        ("new_product_sales", "*新产品销售收入", .money), ("new_product_sales_export", "*其中：出口", .money),
        ("trademarks_eoy", "*期末拥有注册商标", .count), ("sci_papers", "发表科技论文", .count),
        ("standards_formed", "形成国家或行业标准", .count),
        ("tech_renovation_exp", "技术改造经费支出", .money), ("tech_buy_domestic_exp", "购买境内技术经费支出", .money),
        ("tech_import_exp", "引进境外技术经费支出", .money),
        ("tech_import_assim_exp", "引进境外技术的消化吸收经费支出", .money),
        ("overseas_rd_inst_count", "期末企业在境外设立的研究开发机构数", .count),
    ]

    /// Money columns in 万元 (some with full-width brackets, some ASCII) and some with an explicit 千元; the rest
    /// carry no unit and take the pipeline's default 千元.
    static let headerUnits: [String: (unit: String, open: String, close: String)] = [
        "rd_exp_total": ("万元", "（", "）"), "rd_exp_labor": ("万元", "(", ")"),
        "rd_exp_direct": ("千元", "（", "）"), "rd_new_fixed_assets": ("万元", "（", "）"),
        "rd_exp_depreciation": ("千元", "(", ")"),
    ]

    static let identityLabels = ["统一社会信用代码", "单位详细名称", "行政区划代码", "行业代码", "报告期", "填报时间"]

    static let columns107_2: [Column] = rows107_2.map { code, label, kind in
        Column(code: code, label: label, kind: kind, headerUnit: headerUnits[code]?.unit)
    }

    static func headerLabel(_ c: Column) -> String {
        guard let u = headerUnits[c.code] else { return c.label }
        return c.label + u.open + u.unit + u.close
    }

    static let header107_1 = ["统一社会信用代码", "报告期", "项目名称", "项目来源", "项目开展形式", "项目当年成果形式",
                              "项目技术经济目标", "项目起始日期", "项目完成日期", "跨年项目当年所处主要进展阶段",
                              "项目研究开发人员（人）", "项目人员实际工作时间（人月）", "项目经费支出（千元）",
                              "其中：政府资金（千元）"]

    static let headerRoster = ["统一社会信用代码", "单位详细名称", "行政区划代码", "行业代码", "是否规上", "营业收入（千元）",
                               "工业总产值（千元）", "从业人员期末人数", "报告期"]

    /// Zero cells of these optional or sub-item fields are sometimes written as a placeholder (missing): every
    /// hard sum still holds with missing read as 0.
    static let placeholderOK: Set<String> = [
        "rd_exp_intangible_amort", "rd_exp_design", "rd_exp_equip_test", "rd_exp_out_research_inst",
        "rd_exp_out_university", "rd_exp_out_enterprise", "rd_exp_out_overseas", "rd_new_fixed_assets_equip",
        "rd_fund_bank_loan", "rd_fund_venture", "rd_fund_other", "tax_hnte_relief", "inst_count_eoy",
        "inst_rd_staff", "inst_rd_staff_phd", "inst_rd_staff_master", "inst_rd_exp", "inst_equipment_value_eoy",
        "patent_transfer_count", "patent_transfer_income", "new_product_sales_export", "tech_buy_domestic_exp",
        "tech_import_exp", "tech_import_assim_exp", "overseas_rd_inst_count", "standards_formed",
    ]
}

/// Industries the synthetic enterprises belong to, with the words their names and projects are made of.
struct Industry {
    let code: String
    let section: UInt8   // ASCII letter
    let trade: [UInt8]   // 行业字样 in the company name, UTF-8
    let product: String  // what their projects are about
    let family: Int      // index into `projectTemplates`
}

enum Vocabulary {
    static func industry(_ code: String, _ section: Character, _ trade: String, _ product: String, _ family: Int) -> Industry {
        Industry(code: code, section: section.asciiValue!, trade: Array(trade.utf8), product: product, family: family)
    }

    /// 规上工业 industries (sections B, C, D).
    static let industrial: [Industry] = [
        industry("3484", "C", "精密机械", "精密机械零部件", 0), industry("2641", "C", "新材料", "水性工业涂料", 1),
        industry("2740", "C", "药业", "中成药颗粒剂", 2), industry("3670", "C", "汽车部件", "汽车制动钳", 0),
        industry("3856", "C", "电器", "智能电饭煲", 3), industry("3872", "C", "照明电器", "半导体照明灯具", 3),
        industry("3831", "C", "电缆", "中压电力电缆", 3), industry("3982", "C", "电子科技", "高密度印制电路板", 3),
        industry("3351", "C", "五金制品", "门窗五金配件", 0), industry("3451", "C", "轴承", "精密深沟球轴承", 0),
        industry("3841", "C", "新能源科技", "磷酸铁锂动力电池", 3), industry("3453", "C", "齿轮", "减速机传动齿轮", 0),
        industry("2927", "C", "塑业", "日用塑料制品", 1), industry("2231", "C", "包装", "高强瓦楞纸箱", 1),
        industry("2110", "C", "家具", "实木家具", 4), industry("3311", "C", "钢结构", "装配式钢结构件", 0),
        industry("3491", "C", "智能装备", "六轴工业机器人", 0), industry("4014", "C", "仪器", "气相色谱仪", 3),
        industry("4011", "C", "自动化", "可编程逻辑控制器", 3), industry("3443", "C", "阀门", "高压球阀", 0),
        industry("1751", "C", "纺织", "功能性化纤面料", 1), industry("3812", "C", "电机", "永磁同步电动机", 3),
        industry("3584", "C", "医疗器械", "一次性外科器械", 0), industry("2730", "C", "中药饮片", "道地中药饮片", 2),
        industry("1530", "C", "茶业", "高山绿茶", 2), industry("4413", "D", "水电开发", "小水电机组", 5),
        industry("1011", "B", "矿业", "石灰石矿山", 5),
    ]
    static let services: [Industry] = [
        industry("6513", "I", "软件科技", "政务数据平台", 6), industry("7452", "M", "检测技术", "农产品", 7),
    ]
    static let small = industry("3983", "C", "传感科技", "压力传感器", 3)
    static let nonIndustrial: [Industry] = [
        industry("4790", "E", "建设", "", 0), industry("5211", "F", "商贸", "", 0),
    ]

    static let prefixes: [[UInt8]] = ["示例县", "浙江", "金华", "浙江省", "示例"].map { Array($0.utf8) }
    static let brandChars: [[UInt8]] = Array("华锐恒泰康源德力锦江光明正阳晶芯宏达精工远景天鼎盛博维控金盾美新亚联创安顺舒雅卓越永固玉泉鑫瑞长和健凯兴福").map { Array(String($0).utf8) }
    static let suffixes: [[UInt8]] = ["有限公司", "股份有限公司", "有限责任公司"].map { Array($0.utf8) }

    /// `{p}` is the product.
    static let projectTemplates: [[String]] = [
        ["{p}高效精密加工关键技术研究", "基于机器视觉的{p}表面缺陷识别系统开发", "新型{p}结构优化设计及性能提升研究",
         "高可靠性{p}疲劳寿命试验方法研究", "{p}自动化装配工艺开发", "{p}轻量化设计与验证"],
        ["{p}配方优化及性能提升研究", "{p}关键原材料国产化替代研究", "{p}低能耗成型工艺研发", "高性能{p}制备技术研究",
         "{p}绿色生产工艺研究", "{p}质量在线检测技术研究"],
        ["{p}提取纯化工艺优化研究", "{p}质量标准提升研究", "{p}有效成分含量测定方法研究", "{p}新剂型开发",
         "{p}加工工艺标准化研究", "{p}稳定性及保质期延长技术研究"],
        ["{p}高可靠性设计与验证", "{p}关键工艺参数优化研究", "新一代{p}研制", "{p}热管理技术研究",
         "{p}自动测试系统开发", "{p}电磁兼容性能提升研究"],
        ["{p}新材料应用研究", "{p}环保涂饰工艺研究", "{p}结构创新设计研究", "{p}数字化设计与柔性生产研究"],
        ["{p}智能监测与运行优化研究", "{p}安全生产在线预警技术研究", "{p}资源综合利用技术研究", "{p}节水降耗工艺研究"],
        ["{p}数据治理关键技术研究", "基于大模型的{p}智能问答系统研发", "{p}多源数据融合分析研究",
         "{p}安全可信访问控制技术研究"],
        ["{p}快速筛查方法研究", "{p}多残留同步检测技术研究", "{p}检测能力验证方法研究", "{p}溯源检测技术研究"],
    ]
}
