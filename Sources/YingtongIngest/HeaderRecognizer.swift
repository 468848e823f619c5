import Foundation
import YingtongModel

/// Finds the header among the first rows of a sheet and binds its columns to dictionary fields.
///
/// People put title rows above the header, a units row or a 代码 row under it, and name columns by field code,
/// Chinese name (with the unit in brackets) or the form's row number; this is where all of that is understood.
public struct HeaderRecognizer {
    public let dictionary: FieldDictionary
    /// Rows examined for a header before the file is declared headerless.
    public static let searchDepth = 30

    public init(dictionary: FieldDictionary) { self.dictionary = dictionary }

    /// How many cells of a row name a known field (by code, name, alias).
    public func score(_ cells: [String]) -> Int {
        cells.reduce(0) { n, c in
            let t = c.trimmingCharacters(in: .whitespaces)
            return t.isEmpty ? n : n + (dictionary.candidates(forLabel: t, form: nil).isEmpty ? 0 : 1)
        }
    }

    /// Whether the row looks like a header: at least two known names, and they are most of its non-empty cells.
    public func isHeader(_ cells: [String]) -> Bool {
        let nonEmpty = cells.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.count
        let s = score(cells)
        return s >= 2 && s * 2 >= nonEmpty
    }

    /// The form a header describes, when the pipeline did not say.
    public func detectForm(_ cells: [String]) -> Form? {
        var votes: [Form: Int] = [:]
        for c in cells {
            for f in Set(dictionary.candidates(forLabel: c, form: nil).compactMap(\.form)) { votes[f, default: 0] += 1 }
        }
        let codes = Set(cells.flatMap { dictionary.candidates(forLabel: $0, form: nil).map(\.code) })
        if codes.contains("project_name") { return .projects }
        if codes.contains("indicator") && codes.contains("value") { return .macro }
        if (votes[.activity] ?? 0) >= 2 { return .activity }
        if (votes[.roster] ?? 0) >= 1 { return .roster }
        return votes.max { $0.value < $1.value }?.key
    }

    public enum Outcome {
        case layout(HeaderLayout)
        /// The file's header is unusable (duplicate or ambiguous columns): an error for the whole file.
        case invalid(code: String, messageZh: String)
    }

    /// Binds a header row. `unitsRow` and `codeRow` are the optional rows under it.
    public func bind(header: [String], unitsRow: [String]?, codeRow: [String]?, form declared: Form?, period: Int?,
                     headerLine: Int32) -> Outcome {
        guard let form = declared ?? detectForm(header) else {
            return .invalid(code: "E-CSV-FORM", messageZh: "无法从表头判断报表类型（107-2、107-1、名录或宏观数据），请在流水线中声明 form")
        }
        let version = (period ?? 2021) >= 2021 ? "2021" : "pre2021"
        var bindings: [ColumnBinding] = []
        var unknown: [String] = []
        var seen: [String: String] = [:]
        for (i, rawLabel) in header.enumerated() {
            let label = rawLabel.trimmingCharacters(in: .whitespaces)
            var unit: String? = HeaderText.splitUnit(label)?.1
            if let u = unitsRow?[safe: i]?.trimmingCharacters(in: .whitespaces), !u.isEmpty, dictionary.units.isUnitName(u) {
                unit = unit ?? HeaderText.halfWidth(u)
            }
            var field: FieldDefinition?
            if !label.isEmpty {
                let found = dictionary.candidates(forLabel: label, form: form)
                field = found.first { $0.form == form.fieldForm || $0.isIdentity }
            }
            // A header that is a row number, or a 代码 row under the header, names the form's official row.
            if field == nil, form.fieldForm == .activity {
                let rowText = Int(HeaderText.halfWidth(label)) != nil ? label : (codeRow?[safe: i] ?? "")
                if let row = Int(HeaderText.halfWidth(rowText).trimmingCharacters(in: .whitespaces)) {
                    field = dictionary.field(form: form, version: version, row: row)
                }
            }
            guard let field else {
                if !label.isEmpty { unknown.append(label) }
                continue
            }
            if let previous = seen[field.code] {
                return .invalid(code: "E-CSV-HEADER-DUPLICATE",
                                messageZh: "表头第 \(i + 1) 列“\(label)”与“\(previous)”指向同一字段 \(field.code)（\(field.name)），无法确定取哪一列，整个文件已隔离")
            }
            seen[field.code] = label
            bindings.append(ColumnBinding(sourceColumn: i, field: field, declaredUnit: unit, header: label))
        }
        return .layout(HeaderLayout(form: form, formVersion: version, bindings: bindings, unknownColumns: unknown,
                                    headerLine: headerLine))
    }

    /// A units row under the header: `计量单位` in the first cell, or mostly unit names.
    public func isUnitsRow(_ cells: [String]) -> Bool {
        let trimmed = cells.map { HeaderText.halfWidth($0).trimmingCharacters(in: .whitespaces) }
        if let first = trimmed.first(where: { !$0.isEmpty }), ["计量单位", "单位", "计量单位:", "计量单位："].contains(first) {
            return true
        }
        let nonEmpty = trimmed.filter { !$0.isEmpty }
        guard nonEmpty.count >= 2 else { return false }
        let units = nonEmpty.filter { dictionary.units.isUnitName($0) }.count
        return units * 4 >= nonEmpty.count * 3
    }

    /// A 代码 row under the header (`代码`, or `甲,乙,丙,1,2,3…`).
    public func isCodeRow(_ cells: [String]) -> Bool {
        let trimmed = cells.map { HeaderText.halfWidth($0).trimmingCharacters(in: .whitespaces) }
        guard let first = trimmed.first(where: { !$0.isEmpty }) else { return false }
        return first == "代码" || first == "甲"
    }

    /// Footer lines Excel templates carry (填报说明, signatures, dates).
    public static let footerPrefixes = ["填报说明", "说明：", "说明:", "注：", "注:", "备注", "单位负责人", "统计负责人", "填表人", "报出日期", "审核人"]

    public func isFooter(_ cells: [String]) -> Bool {
        guard let first = cells.first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return false }
        let t = first.trimmingCharacters(in: .whitespaces)
        return Self.footerPrefixes.contains { t.hasPrefix($0) }
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
