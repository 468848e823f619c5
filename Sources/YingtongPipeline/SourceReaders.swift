import Foundation
import YingtongModel
import YingtongIngest
import YingtongXML

/// Picks the reader for one input: CSV, yingtong's XML schema, or SDMX-ML, by the source's declared format,
/// else by the file's extension and, for XML, by the namespace of its root element.
enum SourceReaders {
    enum Kind: String { case csv, xml, sdmx }

    static func kind(path: String, declared: String?) -> Kind {
        if let declared, let k = Kind(rawValue: declared.lowercased()) { return k }
        guard path.lowercased().hasSuffix(".xml") else { return .csv }
        // The first few KiB hold the root element and its namespace declarations.
        guard let handle = FileHandle(forReadingAtPath: path) else { return .xml }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4096)) ?? Data()
        let text = String(decoding: head.filter { $0 != 0 }, as: UTF8.self)
        return text.contains("sdmx.org/resources/sdmxml") ? .sdmx : .xml
    }

    static func make(_ file: SourceFile, declared: String?, period: Int?, limits: InputLimits = InputLimits()) -> any RecordSource {
        if file.role == "explanations" { return ExplanationCSVReader(source: file, period: period ?? 0) }
        let xmlLimits = XMLLimits(maxDepth: limits.maxXMLDepth, maxTextBytes: limits.maxXMLTextBytes)
        switch kind(path: file.path, declared: declared) {
        case .csv:
            var reader = CSVReader(source: file, period: period)
            reader.limits = limits
            return reader
        case .xml:
            // A registry's rows (技术合同, 高企…) have their own simple shape; the forms have the enterprise schema.
            if let form = file.form, !form.isSubmission, form != .macro {
                return RegistryXMLReader(source: file, limits: xmlLimits)
            }
            return YingtongXMLReader(source: file, limits: xmlLimits)
        case .sdmx:
            var options = SDMXOptions()
            options.limits = xmlLimits
            return SDMXReader(source: file, options: options)
        }
    }
}
