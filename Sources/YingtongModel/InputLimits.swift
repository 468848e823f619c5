import Foundation

/// The most any one input may ask of a run: bounds that keep memory flat whatever an enterprise sends, set per
/// pipeline (`limits:` in the pipeline file). Anything beyond a bound is quarantined with its location and a
/// Chinese reason (codes `E-LIMIT-…` and `E-CSV-LINE-TOO-LONG`), never read whole and never dropped.
///
/// ```yaml
/// limits: {max_field_bytes: 1048576, max_header_columns: 2000, max_xml_depth: 32}
/// ```
///
/// The defaults are far above anything a real 107-2, 107-1, roster, macro or SDMX file needs (a 107-2 row has
/// about 150 cells, a `Note` a paragraph, an SDMX message six levels) and far below what would strain the 2-core,
/// bounded-memory machine the benchmarks run on.
public struct InputLimits: Sendable, Hashable {
    /// Largest CSV field (a cell after unquoting), in UTF-8 bytes.
    public var maxFieldBytes: Int = 1 << 20
    /// Longest physical CSV line, and longest quoted record spanning lines, in UTF-8 bytes. A longer line is
    /// never held whole: only its first 4 KiB are kept for the quarantine entry.
    public var maxLineBytes: Int = 8 << 20
    /// Widest CSV header (and widest row examined while looking for it), in cells.
    public var maxHeaderColumns: Int = 2_000
    /// Deepest XML element nesting (the root is depth 1).
    public var maxXMLDepth: Int = 64
    /// Largest XML text node or attribute value, in UTF-8 bytes.
    public var maxXMLTextBytes: Int = 1 << 20
    /// Most findings (quarantined values and format findings) kept per record; the rest are counted in one
    /// `E-LIMIT-FINDINGS` entry, so a record of garbage cannot flood the store.
    public var maxFindingsPerRecord: Int = 200

    public init() {}

    /// The pipeline-file keys, in the order the README documents them.
    public static let keys = ["max_field_bytes", "max_line_bytes", "max_header_columns", "max_xml_depth",
                              "max_xml_text_bytes", "max_findings_per_record"]

    /// Reads a pipeline's `limits:` mapping; a missing key keeps its default. Errors name the key in Chinese.
    public init(settings: [String: Any]) throws {
        for (key, value) in settings {
            guard Self.keys.contains(key) else {
                throw YingtongError("E-PIPELINE-FIELD", "limits 中未知的键 \(key)（可用：\(Self.keys.joined(separator: "、"))）")
            }
            guard let n = value as? Int, n > 0 else {
                throw YingtongError("E-PIPELINE-FIELD", "limits.\(key) 应为正整数")
            }
            switch key {
            case "max_field_bytes": maxFieldBytes = n
            case "max_line_bytes": maxLineBytes = n
            case "max_header_columns": maxHeaderColumns = n
            case "max_xml_depth": maxXMLDepth = n
            case "max_xml_text_bytes": maxXMLTextBytes = n
            default: maxFindingsPerRecord = n
            }
        }
    }
}
