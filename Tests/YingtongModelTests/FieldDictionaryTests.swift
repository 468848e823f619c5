import Testing
@testable import YingtongModel

@Suite struct FieldDictionaryTests {
    let dict = FieldDictionary.standard

    /// Every official row of the 2021 107-2 layout (DOMAIN §1.1) maps to exactly one field.
    @Test func every2021RowIsThere() {
        let rows = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                    29, 30, 32, 33, 36, 37, 38, 40, 41, 43, 44, 45, 46, 47, 48, 49, 50, 52, 53, 54, 55, 56, 57, 58]
        for row in rows {
            #expect(dict.field(form: .activity, version: "2021", row: row) != nil, "row \(row)")
        }
        #expect(dict.field(form: .activity, version: "2021", row: 7)?.code == "rd_exp_total")
        #expect(dict.field(form: .activity, version: "2021", row: 52)?.code == "tax_superded_rd_exp")
    }

    /// The older layout reuses some numbers for other concepts: never key on the row number alone.
    @Test func olderLayoutHasItsOwnRows() {
        for row in [28, 31, 34, 35, 39, 42, 51] {
            #expect(dict.field(form: .activity, version: "pre2021", row: row) != nil, "pre2021 row \(row)")
        }
        #expect(dict.field(form: .activity, version: "pre2021", row: 52)?.code == "tax_superded_rd_exp_deducted")
    }

    @Test func torchCodesAndChineseNamesResolve() {
        let cases = ["qj09": "rd_staff_total", "qj20": "rd_exp_total", "qj23_1": "rd_exp_labor", "qj33_4": "rd_exp_out_enterprise",
                     "qj250": "rd_new_fixed_assets", "研究开发费用合计（万元）": "rd_exp_total", "其中：女性": "rd_staff_female",
                     "1.人员人工费用(千元)": "rd_exp_labor", "*新产品销售收入": "new_product_sales", "统一社会信用代码": "uscc"]
        for (label, code) in cases {
            #expect(dict.candidates(forLabel: label, form: .activity).first?.code == code, "\(label)")
        }
        #expect(dict.candidates(forLabel: "项目人员实际工作时间（人月）", form: .projects).first?.code == "person_months")
    }

    @Test func relationsAreData() {
        let components = Set(dict.children(of: "rd_exp_total").filter { $0.relation == .component }.map(\.code))
        #expect(components == ["rd_exp_labor", "rd_exp_direct", "rd_exp_depreciation", "rd_exp_intangible_amort",
                               "rd_exp_design", "rd_exp_equip_test", "rd_exp_outsourced", "rd_exp_other"])
        #expect(Set(dict.children(of: "rd_exp_outsourced").map(\.code)).count == 4)
        #expect(dict.field("person_months")?.unit == "人月" && dict.field("rd_exp_total")?.unit == "千元")
    }

    @Test func unitsConvertExactly() {
        #expect(dict.units.factor(for: "万元", type: .money) == UnitFactor(numerator: 10, denominator: 1))
        #expect(dict.units.factor(for: "元", type: .money) == UnitFactor(numerator: 1, denominator: 1000))
        #expect(dict.units.factor(for: "亿元", type: .money) == UnitFactor(numerator: 100_000, denominator: 1))
        #expect(dict.units.factor(for: "万元", type: .count) == nil)
        #expect(Milli(units: 3).scaled(by: UnitFactor(numerator: 1, denominator: 1000)) == Milli(raw: 3))
    }

    @Test func industryCodes() {
        let ind = IndustryClassification.standard
        #expect(ind.parse("3841") == .valid("C3841"))
        #expect(ind.parse("c 3841") == .valid("C3841"))
        if case .invalid = ind.parse("A3841") {} else { Issue.record("A3841 should be invalid") }
        if case .invalid = ind.parse("9999") {} else { Issue.record("division 99 does not exist") }
        #expect(ind.isIndustrial("C3841") && ind.isIndustrial("D4411") && !ind.isIndustrial("M7320"))
        #expect(ind.isHightech("C3841") && !ind.isHightech("C3484"))
    }
}

@Suite struct MilliScalingTests {
    @Test func roundsHalfAwayFromZeroAndDetectsOverflow() {
        let toQianYuan = UnitFactor(numerator: 1, denominator: 1000)
        #expect(Milli(raw: 1500).scaled(by: toQianYuan) == Milli(raw: 2))
        #expect(Milli(raw: -1500).scaled(by: toQianYuan) == Milli(raw: -2))
        #expect(Milli(raw: 1499).scaled(by: toQianYuan) == Milli(raw: 1))
        #expect(Milli(raw: Int64.max).scaled(by: UnitFactor(numerator: 10, denominator: 1)) == nil)
        #expect(Milli(raw: Int64.max).scaled(by: UnitFactor(numerator: 3, denominator: 7)) == Milli(raw: 3_952_873_730_080_618_203))
    }
}
