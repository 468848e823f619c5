import Foundation
import YingtongModel

// Rows are composed byte by byte rather than through a CSV library: the output must reproduce specific habits
// (quoted thousands separators, full-width digits, placeholders, a title row) exactly, and at a million
// enterprises the per-cell cost of building Strings would dominate.

/// A synthetic county R&D cycle in the shapes of fixtures/demo-county, as large as a benchmark needs.
///
/// Writes `<dir>/<period>/107-2_研发活动.csv` (GB18030, CRLF, title row, Chinese headers with some 万元 columns,
/// a 填报说明 footer), `107-1_研发项目.csv` (GB18030, ~2 projects per enterprise), `名录.csv` (UTF-8 with BOM),
/// `宏观.csv`, and `<dir>/pipeline.yaml` that runs them. Output is streamed in chunks, so memory stays flat
/// whatever the size, and the same seed gives the same bytes. Enterprise identities (codes, names,
/// industries) depend on the seed only, so two periods written with one seed describe the same enterprises.
///
/// ```swift
/// let summary = try SyntheticCycle(enterprises: 1_000_000, seed: 7, period: 2023, format: .csv)
///     .write(to: URL(fileURLWithPath: "/tmp/bench"))
/// print(summary.projectRows)
/// ```
///
/// A small fixed share of records carries realistic faults so benchmarks exercise those paths: a wrong USCC
/// check character (≈ 1 in 500), a code destroyed by Excel (`9.13307E+17`, ≈ 1 in 2000), a negative head count
/// (≈ 1 in 2000), `约50` in a money cell (≈ 1 in 1000); placeholders (`—`, `XX`, `/`, empty) for zero
/// sub-items, full-width digits and thousands separators appear throughout.
public struct SyntheticCycle: Sendable {
    public enum Format: Sendable { case csv }

    /// What was written, for tests and benchmark logs.
    public struct Summary: Sendable, Equatable {
        public var periodDirectory: URL
        public var pipelineFile: URL
        public var enterprises = 0
        public var activityRows = 0
        public var projectRows = 0
        public var rosterRows = 0
        /// Planted faults, by kind.
        public var badCheckDigits = 0
        public var excelCodes = 0
        public var negativeCounts = 0
        public var nonNumericValues = 0
        /// Bytes per file name, as written (after encoding).
        public var fileBytes: [String: Int] = [:]
    }

    public let enterprises: Int
    public let seed: UInt64
    public let period: Int
    public let format: Format
    public let region: String

    /// Whether to write the 应统尽统 registries too (`名单/`: tax deduction and technology contracts for about 30%
    /// of the enterprises each, the 高企 list for about 10%), sized like a real province's.
    public var registries = false

    public init(enterprises: Int, seed: UInt64, period: Int, format: Format = .csv, region: String = "330727") {
        self.enterprises = enterprises
        self.seed = seed
        self.period = period
        self.format = format
        self.region = region
    }

    public static let activityFile = "107-2_研发活动.csv"
    public static let projectFile = "107-1_研发项目.csv"
    public static let rosterFile = "名录.csv"
    public static let macroFile = "宏观.csv"
    public static let taxFile = "名单/加计扣除.csv"
    public static let contractFile = "名单/技术合同登记.csv"
    public static let hteFile = "名单/高新技术企业名单.csv"
    static let registrySources = """
          - {role: registry.tax_deduction, path: "{period}/\(taxFile)"}
          - {role: registry.tech_contract, path: "{period}/\(contractFile)"}
          - {role: registry.hte, path: "{period}/\(hteFile)"}

        """

    @discardableResult
    public func write(to directory: URL) throws -> Summary {
        guard enterprises >= 0, enterprises <= 100_000_000 else {
            throw GenerateError.invalidParameter("企业数应在 0 至 1 亿之间：\(enterprises)")
        }
        guard RegionCode.isWellFormed(region) else { throw GenerateError.invalidParameter("行政区划代码无效：\(region)") }
        guard (1990...2100).contains(period) else { throw GenerateError.invalidParameter("报告期无效：\(period)") }
        let periodDir = directory.appendingPathComponent(String(period), isDirectory: true)
        try FileManager.default.createDirectory(at: periodDir, withIntermediateDirectories: true)
        var g = Generator(cycle: self)
        var summary = try g.run(into: periodDir)
        summary.pipelineFile = directory.appendingPathComponent("pipeline.yaml")
        try pipelineYAML().write(to: summary.pipelineFile, atomically: true, encoding: .utf8)
        return summary
    }

    /// The pipeline definition (the runner's format); paths are relative to the YAML file's directory.
    public func pipelineYAML() -> String {
        """
        pipeline: synthetic-\(seed)
        name_zh: 合成数据（\(enterprises)家企业，种子\(seed)）
        region: "\(region)"
        period: \(period)
        store: out/yingtong.sqlite
        previous: out/yingtong.sqlite
        outputs:
          dir: out/{period}
        sources:
          - {role: enterprise_rd, form: "107-2", path: "{period}/107-2_*.csv", encoding: auto, unit: 千元}
          - {role: enterprise_rd, form: "107-1", path: "{period}/107-1_*.csv", encoding: auto}
          - {role: roster, path: "{period}/\(Self.rosterFile)"}
          - {role: macro, path: "{period}/\(Self.macroFile)"}
        \(registries ? Self.registrySources : "")indicators: {rd_expenditure: internal, rd_active: cost_positive}
        targets: {rd_intensity: 2.5, ind_rd_active_share: 60}

        """
    }
}

/// One run of the generator: the state of the random streams and the running totals for the macro file.
struct Generator {
    let cycle: SyntheticCycle
    /// Identities (code, name, industry, size): seeded by the seed only, identical across periods.
    var ids: Xoshiro256StarStar
    /// The period's values and faults.
    var vals: Xoshiro256StarStar
    var nextCodeIndex = 0
    let regionBytes: [UInt8]
    let prefectureBytes: [UInt8]
    let periodBytes: [UInt8]
    /// UTF-8 project names per industry and template, built once.
    let projectNames: [String: [[UInt8]]]
    let hightech: Set<String>

    // running totals for 宏观.csv
    var sumF2: Int64 = 0      // 元
    var sumOutput: Int64 = 0  // 元, 规上工业
    var sumHightech: Int64 = 0
    var sumEmployees = 0
    /// Scratch space for project spend shares (≤ 4 projects), reused to avoid an allocation per enterprise.
    var weights = [Double](repeating: 0, count: 4)
    /// Per 107-2 column, its kind, read in the hot loop without copying the column's strings.
    let kinds: [Layout.Kind] = Layout.columns107_2.map(\.kind)

    let ix = ColumnIndex()
    /// Per 107-2 column: whether a zero may be written as a placeholder, and the divisor from 元 to the header unit.
    let placeholderOK: [Bool] = Layout.columns107_2.map { Layout.placeholderOK.contains($0.code) }
    let divisor: [Int64] = Layout.columns107_2.map { $0.headerUnit == "万元" ? 10_000 : 1000 }
    let renovationColumn = Layout.columns107_2.firstIndex { $0.code == "tech_renovation_exp" }!

    init(cycle: SyntheticCycle) {
        self.cycle = cycle
        ids = Xoshiro256StarStar(seed: cycle.seed)
        vals = Xoshiro256StarStar(seed: cycle.seed ^ (UInt64(cycle.period) &* 0x9E37_79B9_7F4A_7C15))
        regionBytes = Array(cycle.region.utf8)
        prefectureBytes = Array(RegionCode.prefecture(cycle.region).utf8)
        periodBytes = Array(String(cycle.period).utf8)
        var names: [String: [[UInt8]]] = [:]
        for ind in Vocabulary.industrial + Vocabulary.services + [Vocabulary.small] {
            names[ind.code] = Vocabulary.projectTemplates[ind.family].map {
                Array($0.replacingOccurrences(of: "{p}", with: ind.product).utf8)
            }
        }
        projectNames = names
        let cls = IndustryClassification.standard
        hightech = Set((Vocabulary.industrial + [Vocabulary.small]).map(\.code).filter {
            cls.isHightech("C" + $0)
        })
    }

    // ── identities ─────────────────────────────────────────────────────────────────────────────────────────

    /// A valid, unique USCC for code index `k`: chars 11–16 are a bijection of `k` (multiplying by a unit of
    /// ℤ/31⁶ℤ), so no two units of one run share a code, and both check characters are computed.
    ///
    /// The check characters are computed here rather than with `USCC.checkChar`/`OrgCode.checkChar`: those take
    /// any collection and, called across the module boundary without specialization, cost more than the rest
    /// of a row. The tests validate every code with the model's own functions.
    mutating func uscc(area: [UInt8]) -> [UInt8] {
        let k = nextCodeIndex
        nextCodeIndex += 1
        let modulus: UInt64 = 887_503_681  // 31^6
        var v = (UInt64(k) % modulus &* 1_000_003 &+ cycleSeedSalt % modulus) % modulus
        var code = [UInt8](repeating: 0, count: 18)
        code[0] = 0x39; code[1] = 0x31
        for i in 0..<6 { code[2 + i] = area[i] }
        code[8] = 0x4D; code[9] = 0x41  // "MA": the 2015+ form of the 组织机构代码 body
        for i in 0..<6 { code[15 - i] = USCC.charset[Int(v % 31)]; v /= 31 }
        // GB 11714 check over the 8-char body (digits 0–9, letters A=10 … Z=35)
        var orgSum = 0
        for i in 0..<8 {
            let ch = code[8 + i]
            orgSum += (ch <= 0x39 ? Int(ch) - 0x30 : Int(ch) - 55) * Self.orgWeights[i]
        }
        let c9 = 11 - orgSum % 11
        code[16] = c9 == 10 ? 0x58 : c9 == 11 ? 0x30 : UInt8(0x30 + c9)
        // GB 32100 check over the first 17 (value = index in the 31-char set)
        var sum = 0
        for i in 0..<17 { sum += Int(Self.usccValue[Int(code[i])]) * Self.usccWeights[i] }
        code[17] = USCC.charset[(31 - sum % 31) % 31]
        return code
    }

    static let orgWeights = [3, 7, 9, 10, 5, 8, 4, 2]
    static let usccWeights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    static let usccValue: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 256)
        for (i, ch) in USCC.charset.enumerated() { t[Int(ch)] = UInt8(i) }
        return t
    }()

    var cycleSeedSalt: UInt64 { cycle.seed &* 0x2545_F491_4F6C_DD1D }

    mutating func area() -> [UInt8] {
        let r = ids.below(100)
        if r < 85 { return regionBytes }
        if r < 95 { return prefectureBytes }
        return Array(prefectureBytes[0..<4]) + [UInt8(ascii: "0"), UInt8(ascii: "2")]
    }

    mutating func name(_ ind: Industry) -> [UInt8] {
        var n = Vocabulary.prefixes[ids.below(Vocabulary.prefixes.count)]
        n += Vocabulary.brandChars[ids.below(Vocabulary.brandChars.count)]
        n += Vocabulary.brandChars[ids.below(Vocabulary.brandChars.count)]
        n += ind.trade
        n += Vocabulary.suffixes[ids.below(10) < 8 ? 0 : ids.below(Vocabulary.suffixes.count)]
        return n
    }

    /// 千元 drawn log-uniformly, returned in 元 (whole 千元).
    static func logUniformQianyuan(_ lo: Double, _ hi: Double, rng: inout Xoshiro256StarStar) -> Int64 {
        Int64(exp(log(lo) + (log(hi) - log(lo)) * rng.unit()).rounded()) * 1000
    }

    // ── the run ────────────────────────────────────────────────────────────────────────────────────────────

    mutating func run(into dir: URL) throws -> SyntheticCycle.Summary {
        var s = SyntheticCycle.Summary(periodDirectory: dir, pipelineFile: dir)
        let a = try ChunkedFileWriter(url: dir.appendingPathComponent(SyntheticCycle.activityFile), encoding: .gb18030)
        let p = try ChunkedFileWriter(url: dir.appendingPathComponent(SyntheticCycle.projectFile), encoding: .gb18030)
        let r = try ChunkedFileWriter(url: dir.appendingPathComponent(SyntheticCycle.rosterFile), encoding: .utf8BOM)
        // Registries come from their own random stream, so the forms are the same with or without them.
        var reg = Xoshiro256StarStar(seed: cycle.seed ^ 0x5EED_0F_4E61_5354)
        var tax: ChunkedFileWriter?, contracts: ChunkedFileWriter?, hte: ChunkedFileWriter?
        if cycle.registries {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("名单"), withIntermediateDirectories: true)
            tax = try ChunkedFileWriter(url: dir.appendingPathComponent(SyntheticCycle.taxFile), encoding: .utf8BOM)
            tax!.bytes.text("纳税人识别号,纳税人名称,年度,研发费用加计扣除基数（元）"); tax!.bytes.crlf()
            contracts = try ChunkedFileWriter(url: dir.appendingPathComponent(SyntheticCycle.contractFile), encoding: .gb18030)
            contracts!.bytes.text("合同登记编号,卖方统一社会信用代码,卖方名称,买方统一社会信用代码,买方名称,合同类型,合同成交额（万元）,技术交易额（万元）,登记日期,行政区划代码")
            contracts!.bytes.crlf()
            hte = try ChunkedFileWriter(url: dir.appendingPathComponent(SyntheticCycle.hteFile), encoding: .gb18030)
            hte!.bytes.text("统一社会信用代码,企业名称,证书编号,发证日期"); hte!.bytes.crlf()
        }
        var lastCode: [UInt8] = [], lastName: [UInt8] = []
        let contractTypes = ["技术开发", "技术转让", "技术许可", "技术咨询", "技术服务"]

        let columns = Layout.columns107_2
        a.bytes.text("企业研究开发活动及相关情况（\(cycle.period)年）")
        a.bytes.crlf()
        a.bytes.text((Layout.identityLabels + columns.map(Layout.headerLabel)).joined(separator: ","))
        a.bytes.crlf()
        p.bytes.text(Layout.header107_1.joined(separator: ","))
        p.bytes.crlf()
        r.bytes.text(Layout.headerRoster.joined(separator: ","))
        r.bytes.crlf()

        var v = [Int64](repeating: 0, count: columns.count)
        var missing = [Bool](repeating: false, count: columns.count)
        for i in 0..<cycle.enterprises {
            // identity
            let kindRoll = ids.below(100)
            let ind: Industry
            let aboveScale: Bool
            if kindRoll < 90 {
                ind = Vocabulary.industrial[ids.below(Vocabulary.industrial.count)]; aboveScale = true
            } else if kindRoll < 95 {
                ind = Vocabulary.services[ids.below(Vocabulary.services.count)]; aboveScale = true
            } else {
                ind = Vocabulary.small; aboveScale = false
            }
            let code = uscc(area: area())
            let nm = name(ind)
            let baseRevenue: Int64 = kindRoll < 90 ? Self.logUniformQianyuan(25_000, 800_000, rng: &ids)
                : kindRoll < 95 ? Self.logUniformQianyuan(15_000, 90_000, rng: &ids) : Self.logUniformQianyuan(6_000, 18_000, rng: &ids)
            let intensity = kindRoll < 90 || kindRoll >= 95 ? ids.uniform(0.012, 0.048) : ids.uniform(0.05, 0.2)
            let employees = max(20, Int(Double(baseRevenue) / 1000 / ids.uniform(300, 900)))
            let industrial = ind.section == UInt8(ascii: "B") || ind.section == UInt8(ascii: "C") || ind.section == UInt8(ascii: "D")

            // this period
            let revenue = Int64(Double(baseRevenue / 1000) * vals.uniform(0.95, 1.15)) * 1000
            let output: Int64 = industrial ? Int64(Double(revenue / 1000) * vals.uniform(0.92, 1.04)) * 1000 : 0
            let zero = vals.oneIn(6)
            fillActivity(&v, revenue: revenue, intensity: intensity, employees: employees, zero: zero,
                         hightech: hightech.contains(ind.code))
            for k in 0..<missing.count { missing[k] = v[k] == 0 && placeholderOK[k] && vals.oneIn(3) }

            // faults
            var written = code
            var usccText: [UInt8]? = nil
            if vals.oneIn(500) {
                let bad = USCC.charset[(USCC.charset.firstIndex(of: code[17])! + 1) % 31]
                written[17] = bad
                s.badCheckDigits += 1
            } else if vals.oneIn(2000) {
                usccText = Array("9.\(String(decoding: code[1..<6], as: UTF8.self))E+17".utf8)
                s.excelCodes += 1
            }
            let negative = vals.oneIn(2000) && v[ix.rd_staff_total] > 0
            if negative { v[ix.rd_staff_female] = -1 - Int64(vals.below(3)); s.negativeCounts += 1 }
            let approx = vals.oneIn(1000)
            if approx { s.nonNumericValues += 1 }

            // 107-2 row
            var b = a.bytes
            a.bytes = []
            b += usccText ?? written
            b.comma(); b += nm
            b.comma(); b += regionBytes
            b.comma(); if vals.oneIn(3) { b.append(ind.section) }; b.text(ind.code)
            b.comma(); b += periodBytes; if vals.oneIn(5) { b.text("年") }
            b.comma(); submittedAt(&b)
            for k in 0..<columns.count {
                b.comma()
                if approx && k == renovationColumn { b.text("约50"); continue }
                if missing[k] { placeholder(&b); continue }
                let x = v[k]
                if x == 0 { b.append(0x30); continue }
                switch kinds[k] {
                case .count:
                    if x > 0 && vals.oneIn(150) { b.fullWidthInt(x) } else { b.int(x) }
                case .money:
                    let div = divisor[k]
                    if x >= 1_000_000 * div / 1000 && vals.oneIn(25) {
                        b.append(0x22); b.decimal(x, divisor: div, thousands: true); b.append(0x22)
                    } else {
                        b.decimal(x, divisor: div)
                    }
                }
            }
            b.crlf()
            a.bytes = b
            try a.flushIfFull()
            s.activityRows += 1
            let f2 = v[ix.rd_exp_total] - v[ix.rd_exp_outsourced] - v[ix.rd_exp_depreciation]
                - v[ix.rd_exp_intangible_amort] + v[ix.rd_new_fixed_assets]
            sumF2 += f2

            // 107-1 rows
            if !zero {
                s.projectRows += writeProjects(p, uscc: written, industry: ind, v: v)
                try p.flushIfFull()
            }

            if let tax, let contracts, let hte {
                // About 30% claim the super-deduction (a base near their row 7, in 元; some well above it),
                // about 30% register a contract (buyer: the previous enterprise), about 10% are 高企.
                if reg.below(10) < 3 {
                    let base = max(v[ix.rd_exp_total], 100_000) * Int64(80 + reg.below(60)) / 100
                    tax.bytes += code; tax.bytes.comma(); tax.bytes += nm; tax.bytes.comma(); tax.bytes += periodBytes
                    tax.bytes.comma(); tax.bytes.int(base); tax.bytes.crlf()
                    try tax.flushIfFull()
                }
                if reg.below(10) < 3, !lastCode.isEmpty {
                    let wan = Int64(5 + reg.below(300))
                    contracts.bytes += periodBytes; contracts.bytes.text(String(format: "%010d", i))
                    contracts.bytes.comma(); contracts.bytes += code; contracts.bytes.comma(); contracts.bytes += nm
                    contracts.bytes.comma(); contracts.bytes += lastCode; contracts.bytes.comma(); contracts.bytes += lastName
                    contracts.bytes.comma(); contracts.bytes.text(contractTypes[reg.below(contractTypes.count)])
                    contracts.bytes.comma(); contracts.bytes.int(wan); contracts.bytes.comma(); contracts.bytes.int(wan * 9 / 10)
                    contracts.bytes.comma(); contracts.bytes += periodBytes; contracts.bytes.text("-0\(1 + reg.below(9))-15")
                    contracts.bytes.comma(); contracts.bytes += regionBytes; contracts.bytes.crlf()
                    try contracts.flushIfFull()
                }
                if reg.below(10) == 0 {
                    hte.bytes += code; hte.bytes.comma(); hte.bytes += nm; hte.bytes.comma(); hte.bytes.text("GR")
                    hte.bytes += periodBytes; hte.bytes.text(String(format: "%08d", i)); hte.bytes.comma()
                    hte.bytes.int(Int64(cycle.period - reg.below(3))); hte.bytes.text("-12-01"); hte.bytes.crlf()
                    try hte.flushIfFull()
                }
                lastCode = code
                lastName = nm
            }

            // roster row, and now and then a unit that never reports or is not industrial
            writeRoster(r, uscc: code, name: nm, industry: ind, above: aboveScale, revenue: revenue, output: output,
                        employees: employees)
            s.rosterRows += 1
            sumEmployees += employees
            if aboveScale && industrial {
                sumOutput += output
                if hightech.contains(ind.code) { sumHightech += output }
            }
            if i % 25 == 24 {
                let ind2 = Vocabulary.industrial[ids.below(Vocabulary.industrial.count)]
                let rev2 = Self.logUniformQianyuan(22_000, 200_000, rng: &ids)
                let out2 = rev2 / 1000 * 97 * 10
                writeRoster(r, uscc: uscc(area: area()), name: name(ind2), industry: ind2, above: true, revenue: rev2,
                            output: out2, employees: Int(rev2 / 600_000) + 20)
                sumOutput += out2
                s.rosterRows += 1
            }
            if i % 60 == 59 {
                let ind3 = Vocabulary.nonIndustrial[ids.below(Vocabulary.nonIndustrial.count)]
                let rev3 = Self.logUniformQianyuan(50_000, 400_000, rng: &ids)
                writeRoster(r, uscc: uscc(area: area()), name: name(ind3), industry: ind3, above: true, revenue: rev3,
                            output: 0, employees: Int(rev3 / 500_000) + 30)
                s.rosterRows += 1
            }
            try r.flushIfFull()
        }
        a.bytes.text("填报说明：1.本表金额单位除标明者外为千元；2.“其中”项不得大于合计；3.本文件为合成测试数据（种子\(cycle.seed)）。")
        a.bytes.crlf()
        try a.close(); try p.close(); try r.close()
        for (w, file) in [(tax, SyntheticCycle.taxFile), (contracts, SyntheticCycle.contractFile), (hte, SyntheticCycle.hteFile)] {
            if let w { try w.close(); s.fileBytes[file] = w.bytesWritten }
        }
        s.enterprises = cycle.enterprises
        s.fileBytes[SyntheticCycle.activityFile] = a.bytesWritten
        s.fileBytes[SyntheticCycle.projectFile] = p.bytesWritten
        s.fileBytes[SyntheticCycle.rosterFile] = r.bytesWritten
        let macro = macroCSV()
        try Data(macro.utf8).write(to: dir.appendingPathComponent(SyntheticCycle.macroFile))
        s.fileBytes[SyntheticCycle.macroFile] = macro.utf8.count
        return s
    }

    /// GDP sized so that R&D intensity lands near 2.2 %; the reporting enterprises employ about a sixth of all
    /// employed persons, as in an industrial county.
    func macroCSV() -> String {
        let gdpWan = max(1, sumF2 / 10_000 * 1000 / 22)             // 元 → 万元, ÷ 2.2 %
        let employed = max(1, sumEmployees * 6)
        let outWan = sumOutput / 10_000 * 115 / 100
        let htWan = sumHightech / 10_000 * 110 / 100
        let rc = cycle.region, p = cycle.period
        return """
        region_code,period,indicator,value,unit
        \(rc),\(p),GDP,\(gdpWan),万元
        \(rc),\(p),EMPLOYED,\(employed),人
        \(rc),\(p),IND_OUTPUT_ABOVE_SCALE,\(outWan),万元
        \(rc),\(p),HIGHTECH_OUTPUT,\(htWan),万元

        """
    }

    mutating func submittedAt(_ b: inout [UInt8]) {
        b.int(cycle.period + 1)
        b.text("-0")
        let month = 2 + vals.below(2)
        b.int(month)
        b.append(0x2D)
        let day = 1 + vals.below(28)
        if day < 10 { b.append(0x30) }
        b.int(day)
        b.append(0x20)
        let h = 8 + vals.below(10)
        if h < 10 { b.append(0x30) }
        b.int(h)
        b.append(0x3A)
        let m = vals.below(60)
        if m < 10 { b.append(0x30) }
        b.int(m)
        b.text(":00")
    }

    mutating func placeholder(_ b: inout [UInt8]) {
        switch vals.below(4) {
        case 0: b.text("—")
        case 1: b.text("XX")
        case 2: b.append(0x2F)
        default: break
        }
    }

    @inline(__always)
    static func r100(_ x: Double) -> Int64 { Int64((x / 100).rounded()) * 100 }

    /// A 107-2 record (money in 元) that satisfies every hard in-record rule: row 7 = Σ its eight components,
    /// row 14 = Σ rows 15–18, sources = row 7, subsets ≤ totals.
    mutating func fillActivity(_ v: inout [Int64], revenue: Int64, intensity: Double, employees: Int, zero: Bool,
                               hightech: Bool) {
        for k in v.indices { v[k] = 0 }
        if zero { return }
        let total = min(max(Self.r100(Double(revenue) * intensity * vals.uniform(0.9, 1.1)), 200_000), 80_000_000)
        let labor = Self.r100(Double(total) * vals.uniform(0.38, 0.55))
        let staff = Int64(min(400, max(3, min(employees / 3, Int(Double(labor) / vals.uniform(110_000, 190_000))))))
        v[ix.rd_staff_total] = staff
        v[ix.rd_staff_mgmt_service] = Int64(Double(staff) * vals.uniform(0.05, 0.15))
        v[ix.rd_staff_female] = Int64(Double(staff) * vals.uniform(0.12, 0.4))
        let external = vals.oneIn(2) ? Int64(Double(staff) * vals.uniform(0, 0.12)) : 0
        v[ix.rd_staff_external] = external
        v[ix.rd_staff_fulltime] = staff - external - Int64(Double(staff) * vals.uniform(0, 0.1))
        v[ix.rd_staff_bachelor_plus] = max(1, Int64(Double(staff) * vals.uniform(0.25, 0.7)))
        let t = Double(total)
        v[ix.rd_exp_labor] = labor
        v[ix.rd_exp_direct] = Self.r100(t * vals.uniform(0.22, 0.36))
        v[ix.rd_exp_depreciation] = Self.r100(t * vals.uniform(0.04, 0.10))
        v[ix.rd_exp_intangible_amort] = vals.oneIn(3) ? Self.r100(t * vals.uniform(0, 0.03)) : 0
        v[ix.rd_exp_design] = vals.oneIn(2) ? Self.r100(t * vals.uniform(0, 0.04)) : 0
        v[ix.rd_exp_equip_test] = vals.oneIn(2) ? Self.r100(t * vals.uniform(0, 0.04)) : 0
        let out = vals.oneIn(3) ? Self.r100(t * vals.uniform(0.02, 0.08)) : 0
        v[ix.rd_exp_outsourced] = out
        if out > 0 {
            let uni = Self.r100(Double(out) * vals.uniform(0.3, 0.8))
            let inst = Self.r100(Double(out - uni) * vals.uniform(0, 0.7))
            v[ix.rd_exp_out_university] = uni
            v[ix.rd_exp_out_research_inst] = inst
            v[ix.rd_exp_out_enterprise] = out - uni - inst
        }
        let parts = [ix.rd_exp_labor, ix.rd_exp_direct, ix.rd_exp_depreciation, ix.rd_exp_intangible_amort,
                     ix.rd_exp_design, ix.rd_exp_equip_test, ix.rd_exp_outsourced].reduce(Int64(0)) { $0 + v[$1] }
        var other = total - parts
        if other < 0 {
            // the drawn shares overshot row 7: direct inputs (≥ 22 % of it) give back the excess (≤ 20 %)
            v[ix.rd_exp_direct] += other
            other = 0
        }
        v[ix.rd_exp_other] = other
        v[ix.rd_exp_total] = total
        if vals.chance(0.7) {
            let fa = Self.r100(t * vals.uniform(0.03, 0.25))
            v[ix.rd_new_fixed_assets] = fa
            v[ix.rd_new_fixed_assets_equip] = Self.r100(Double(fa) * vals.uniform(0.5, 1.0))
        }
        let gov = vals.chance(0.35) ? Self.r100(t * vals.uniform(0.02, 0.12)) : 0
        let bank = vals.oneIn(10) ? Self.r100(t * vals.uniform(0.05, 0.2)) : 0
        v[ix.rd_fund_government] = gov
        v[ix.rd_fund_bank_loan] = bank
        v[ix.rd_fund_self] = total - gov - bank
        if vals.chance(0.85) {
            let base = Self.r100(t * vals.uniform(0.75, 1.0))
            v[ix.tax_superded_rd_exp] = base
            v[ix.tax_superded_relief] = Self.r100(Double(base) * (hightech ? 0.15 : 0.25))
        }
        if hightech { v[ix.tax_hnte_relief] = Self.r100(Double(revenue) * vals.uniform(0.002, 0.006)) }
        if staff >= 15 && vals.chance(0.55) {
            let instStaff = max(3, Int64(Double(staff) * vals.uniform(0.4, 0.8)))
            let cap = min(instStaff, v[ix.rd_staff_bachelor_plus])
            let master = Int64(Double(cap) * vals.uniform(0, 0.25))
            v[ix.inst_count_eoy] = vals.oneIn(5) ? 2 : 1
            v[ix.inst_rd_staff] = instStaff
            v[ix.inst_rd_staff_master] = master
            v[ix.inst_rd_staff_phd] = master + 1 <= cap && vals.chance(0.3) ? 1 : 0
            v[ix.inst_rd_exp] = Self.r100(t * vals.uniform(0.4, 0.85))
            v[ix.inst_equipment_value_eoy] = Self.r100(t * vals.uniform(0.3, 1.5))
        }
        let apps = Int64(vals.below(Int(max(1, staff / 4)) + 1))
        v[ix.patent_apps] = apps
        v[ix.patent_apps_invention] = Int64(vals.below(Int(apps / 2) + 1))
        let valid = Int64(vals.below(Int(staff / 6) + 1))
        v[ix.patents_invention_valid_eoy] = valid
        v[ix.patents_invention_in_use] = Int64(vals.below(Int(valid) + 1))
        if vals.oneIn(10) {
            v[ix.patent_transfer_count] = 1
            v[ix.patent_transfer_income] = Self.r100(vals.uniform(20_000, 300_000))
        }
        if vals.chance(0.6) {
            let nps = Self.r100(Double(revenue) * vals.uniform(0.1, 0.5))
            v[ix.new_product_sales] = nps
            if vals.chance(0.4) { v[ix.new_product_sales_export] = Self.r100(Double(nps) * vals.uniform(0.05, 0.6)) }
        }
        v[ix.trademarks_eoy] = Int64(vals.below(13))
        v[ix.sci_papers] = vals.chance(0.3) ? Int64(vals.below(4)) : 0
        v[ix.standards_formed] = vals.oneIn(10) ? 1 : 0
        if vals.chance(0.3) { v[ix.tech_renovation_exp] = Self.r100(Double(revenue) * vals.uniform(0.002, 0.02)) }
        if vals.oneIn(10) { v[ix.tech_buy_domestic_exp] = Self.r100(vals.uniform(50_000, 800_000)) }
    }

    /// 1–4 projects consistent with R112–R117 and R214/R215; returns the number of rows written.
    mutating func writeProjects(_ w: ChunkedFileWriter, uscc: [UInt8], industry: Industry, v: [Int64]) -> Int {
        let staff = Int(v[ix.rd_staff_total])
        let pool = max(1, staff - Int(v[ix.rd_staff_mgmt_service]))
        let n = min(pool, 1 + vals.below(4))
        let names = projectNames[industry.code]!
        let t0 = vals.below(names.count)
        let spend = Self.r100(Double(v[ix.rd_exp_total]) * vals.uniform(0.72, 0.97))
        let gov = v[ix.rd_fund_government]
        // shares of the spend: head count with some spread, so projects of one enterprise differ
        var weightSum = 0.0
        for k in 0..<n {
            weights[k] = Double(pool / n + (k < pool % n ? 1 : 0)) * vals.uniform(0.7, 1.3)
            weightSum += weights[k]
        }
        var left = spend
        var b = w.bytes
        w.bytes = []
        for k in 0..<n {
            let size = pool / n + (k < pool % n ? 1 : 0)
            let halves = max(1, Int((Double(size) * 12 * vals.uniform(0.45, 0.92) * 2).rounded()))
            var exp = k == n - 1 ? left : Self.r100(Double(spend) * weights[k] / weightSum)
            left -= exp
            // the first project carries all government money (R215: Σ exp_gov = row 43)
            let thisGov = k == 0 ? gov : 0
            if exp < thisGov { exp = thisGov }
            let start: Int = vals.chance(0.6) ? cycle.period * 100 + 1 + vals.below(9)
                : (cycle.period - 1) * 100 + 3 + vals.below(10)
            let months = (start / 100) * 12 + (start % 100) - 1 + 6 + vals.below(25)
            var end = (months / 12) * 100 + months % 12 + 1
            if end < cycle.period * 100 + 1 { end = cycle.period * 100 + 6 }
            b += uscc
            b.comma(); b += periodBytes
            b.comma()
            let name = names[(t0 + k) % names.count]
            switch vals.below(1000) {
            case 0, 1:  // an ASCII comma in the name: the cell must be quoted
                b.append(0x22); b += name; b.text(",第二阶段\""); 
            case 2:     // quotes in the name: doubled inside a quoted cell
                b.text("\"基于\"\"数字孪生\"\"的"); b += name; b.append(0x22)
            default:
                b += name
            }
            b.comma(); b.append(thisGov > 0 ? 0x32 : 0x31)
            b.comma(); b.text(v[ix.rd_exp_outsourced] > 0 ? "22" : (vals.oneIn(4) ? "23" : "10"))
            b.comma(); b.text(["12", "13", "09", "10", "04", "13"][vals.below(6)])
            b.comma(); b.text(["3", "4", "4", "2", "3"][vals.below(5)])
            b.comma(); b.int(start)
            b.comma(); b.int(end)
            b.comma(); if start / 100 < cycle.period { b.int(1 + vals.below(3)) }
            b.comma(); b.int(size)
            b.comma(); b.int(halves / 2); if halves % 2 == 1 { b.text(".5") }
            b.comma(); b.decimal(exp, divisor: 1000)
            b.comma(); b.decimal(thisGov, divisor: 1000)
            b.crlf()
        }
        w.bytes = b
        return n
    }

    func writeRoster(_ w: ChunkedFileWriter, uscc: [UInt8], name: [UInt8], industry: Industry, above: Bool,
                     revenue: Int64, output: Int64, employees: Int) {
        var b = w.bytes
        w.bytes = []
        b += uscc
        b.comma(); b += name
        b.comma(); b += regionBytes
        b.comma(); b.text(industry.code)
        b.comma(); b.text(above ? "是" : "否")
        b.comma(); b.decimal(revenue, divisor: 1000)
        b.comma(); if output > 0 { b.decimal(output, divisor: 1000) }
        b.comma(); b.int(employees)
        b.comma(); b += periodBytes
        b.crlf()
        w.bytes = b
    }
}

/// Column positions of the fields the generator fills, looked up once (the hot loop indexes arrays only).
struct ColumnIndex {
    let inst_count_eoy: Int
    let inst_equipment_value_eoy: Int
    let inst_rd_exp: Int
    let inst_rd_staff: Int
    let inst_rd_staff_master: Int
    let inst_rd_staff_phd: Int
    let new_product_sales: Int
    let new_product_sales_export: Int
    let patent_apps: Int
    let patent_apps_invention: Int
    let patent_transfer_count: Int
    let patent_transfer_income: Int
    let patents_invention_in_use: Int
    let patents_invention_valid_eoy: Int
    let rd_exp_depreciation: Int
    let rd_exp_design: Int
    let rd_exp_direct: Int
    let rd_exp_equip_test: Int
    let rd_exp_intangible_amort: Int
    let rd_exp_labor: Int
    let rd_exp_other: Int
    let rd_exp_out_enterprise: Int
    let rd_exp_out_research_inst: Int
    let rd_exp_out_university: Int
    let rd_exp_outsourced: Int
    let rd_exp_total: Int
    let rd_fund_bank_loan: Int
    let rd_fund_government: Int
    let rd_fund_self: Int
    let rd_new_fixed_assets: Int
    let rd_new_fixed_assets_equip: Int
    let rd_staff_bachelor_plus: Int
    let rd_staff_external: Int
    let rd_staff_female: Int
    let rd_staff_fulltime: Int
    let rd_staff_mgmt_service: Int
    let rd_staff_total: Int
    let sci_papers: Int
    let standards_formed: Int
    let tax_hnte_relief: Int
    let tax_superded_rd_exp: Int
    let tax_superded_relief: Int
    let tech_buy_domestic_exp: Int
    let tech_renovation_exp: Int
    let trademarks_eoy: Int

    init() {
        let map = Dictionary(uniqueKeysWithValues: Layout.rows107_2.enumerated().map { ($1.0, $0) })
        func col(_ code: String) -> Int { map[code]! }
        inst_count_eoy = col("inst_count_eoy")
        inst_equipment_value_eoy = col("inst_equipment_value_eoy")
        inst_rd_exp = col("inst_rd_exp")
        inst_rd_staff = col("inst_rd_staff")
        inst_rd_staff_master = col("inst_rd_staff_master")
        inst_rd_staff_phd = col("inst_rd_staff_phd")
        new_product_sales = col("new_product_sales")
        new_product_sales_export = col("new_product_sales_export")
        patent_apps = col("patent_apps")
        patent_apps_invention = col("patent_apps_invention")
        patent_transfer_count = col("patent_transfer_count")
        patent_transfer_income = col("patent_transfer_income")
        patents_invention_in_use = col("patents_invention_in_use")
        patents_invention_valid_eoy = col("patents_invention_valid_eoy")
        rd_exp_depreciation = col("rd_exp_depreciation")
        rd_exp_design = col("rd_exp_design")
        rd_exp_direct = col("rd_exp_direct")
        rd_exp_equip_test = col("rd_exp_equip_test")
        rd_exp_intangible_amort = col("rd_exp_intangible_amort")
        rd_exp_labor = col("rd_exp_labor")
        rd_exp_other = col("rd_exp_other")
        rd_exp_out_enterprise = col("rd_exp_out_enterprise")
        rd_exp_out_research_inst = col("rd_exp_out_research_inst")
        rd_exp_out_university = col("rd_exp_out_university")
        rd_exp_outsourced = col("rd_exp_outsourced")
        rd_exp_total = col("rd_exp_total")
        rd_fund_bank_loan = col("rd_fund_bank_loan")
        rd_fund_government = col("rd_fund_government")
        rd_fund_self = col("rd_fund_self")
        rd_new_fixed_assets = col("rd_new_fixed_assets")
        rd_new_fixed_assets_equip = col("rd_new_fixed_assets_equip")
        rd_staff_bachelor_plus = col("rd_staff_bachelor_plus")
        rd_staff_external = col("rd_staff_external")
        rd_staff_female = col("rd_staff_female")
        rd_staff_fulltime = col("rd_staff_fulltime")
        rd_staff_mgmt_service = col("rd_staff_mgmt_service")
        rd_staff_total = col("rd_staff_total")
        sci_papers = col("sci_papers")
        standards_formed = col("standards_formed")
        tax_hnte_relief = col("tax_hnte_relief")
        tax_superded_rd_exp = col("tax_superded_rd_exp")
        tax_superded_relief = col("tax_superded_relief")
        tech_buy_domestic_exp = col("tech_buy_domestic_exp")
        tech_renovation_exp = col("tech_renovation_exp")
        trademarks_eoy = col("trademarks_eoy")
    }
}
