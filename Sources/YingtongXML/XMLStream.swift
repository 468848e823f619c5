import CLibXML2
import Foundation

/// Limits a hostile or broken document cannot get past; the defaults suit every real yingtong and SDMX file.
///
/// ```swift
/// var limits = XMLLimits()
/// limits.maxDepth = 16   // a yingtong report is 4 deep, an SDMX message 6
/// ```
public struct XMLLimits: Sendable, Hashable {
    /// Deepest element nesting accepted (the root is depth 1).
    public var maxDepth: Int = 64
    /// Longest text node or attribute value, in UTF-8 bytes (a `Note` is a paragraph, a number a few bytes).
    public var maxTextBytes: Int = 1 << 20
    /// Most elements (values, projects, notes) one record may hold: a record is kept in memory until it is
    /// complete, so this is what bounds memory per record. Real enterprises have a few hundred.
    public var maxElementsPerRecord: Int = 100_000

    public init(maxDepth: Int = 64, maxTextBytes: Int = 1 << 20, maxElementsPerRecord: Int = 100_000) {
        self.maxDepth = maxDepth
        self.maxTextBytes = maxTextBytes
        self.maxElementsPerRecord = maxElementsPerRecord
    }
}

/// A fault that ends the reading of a document: not well-formed, a DTD, an entity, a limit. Located and in Chinese.
public struct XMLFault: Error, Sendable, Hashable, CustomStringConvertible {
    /// `E-XML-MALFORMED`, `E-XML-DTD`, `E-XML-ENTITY`, `E-XML-LIMIT`, `E-ENCODING`.
    public let code: String
    public let line: Int
    public let column: Int?
    public let messageZh: String
    /// libxml2's own message, when the parser raised the fault.
    public let parserMessage: String?

    public init(code: String, line: Int, column: Int?, messageZh: String, parserMessage: String?) {
        self.code = code
        self.line = line
        self.column = column
        self.messageZh = messageZh
        self.parserMessage = parserMessage
    }

    public var description: String { "[\(code)] 第 \(line) 行：\(messageZh)" }
}

/// The kinds of node the readers act on; everything else (comments, processing instructions) is skipped.
enum XMLNodeKind {
    case start, end, text, whitespace
}

/// A safe, streaming cursor over one XML file: libxml2's `xmlTextReader` with the options of the tech probe §1.
///
/// Safety is by construction rather than by configuration left to callers: the parser never touches the
/// network, never loads a DTD, never substitutes entities; a DOCTYPE or an entity reference ends the document
/// with `E-XML-DTD`/`E-XML-ENTITY`, as do the depth and text limits. Memory is one node plus libxml2's input
/// buffer, whatever the file size.
///
/// Element and namespace names come from libxml2's dictionary, so `name == interned("Value")` is a pointer
/// comparison, not a string comparison: that is what keeps the hot loop cheap.
final class XMLStream {
    @exclusivity(unchecked) private var reader: OpaquePointer
    private(set) var path: String
    let limits: XMLLimits
    private let errors: ErrorBox
    private var errorsRef: Unmanaged<ErrorBox>

    /// Line of the last whitespace-only text node and whether it came just before the current node. libxml2
    /// stamps a text node with the line of the `<` that ends it, which is exactly the line where the next tag
    /// starts — more precise than an element's own line (the line its start tag *ends*, capped at 65535).
    @exclusivity(unchecked) private var whitespaceLine = 0
    @exclusivity(unchecked) private var whitespaceJustBefore = false
    @exclusivity(unchecked) private(set) var kind: XMLNodeKind = .whitespace
    @exclusivity(unchecked) private(set) var depth = 0
    @exclusivity(unchecked) private(set) var isEmptyElement = false
    @exclusivity(unchecked) private(set) var localName: UnsafePointer<UInt8>?
    @exclusivity(unchecked) private(set) var namespaceURI: UnsafePointer<UInt8>?

    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    /// Options of the tech probe §1. NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE and HUGE are never set.
    static let safeOptions: Int32 = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue
        | XML_PARSE_COMPACT.rawValue | XML_PARSE_BIG_LINES.rawValue)

    /// Opens `path`; `encoding` overrides the document's declaration (nil: the declaration or BOM decides).
    init(path: String, encoding: String?, limits: XMLLimits) throws(XMLFault) {
        _ = XMLStream.initialized
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw XMLFault(code: "E-XML-OPEN", line: 0, column: nil, messageZh: "无法读取文件 \(path)", parserMessage: nil)
        }
        guard let r = xmlReaderForFile(path, encoding, XMLStream.safeOptions) else {
            throw XMLFault(code: "E-XML-OPEN", line: 0, column: nil, messageZh: "libxml2 无法打开文件 \(path)",
                           parserMessage: nil)
        }
        reader = r
        self.path = path
        self.limits = limits
        errors = ErrorBox()
        errorsRef = Unmanaged.passRetained(errors)
        // The variadic generic handler cannot be set from Swift (probe: pitfalls); the structured one can, and it
        // keeps libxml2's messages out of stderr and in our located errors.
        xmlTextReaderSetStructuredErrorHandler(reader, { ctx, err in
            guard let ctx, let err else { return }
            Unmanaged<ErrorBox>.fromOpaque(ctx).takeUnretainedValue().record(err.pointee)
        }, errorsRef.toOpaque())
    }

    deinit {
        xmlFreeTextReader(reader)
        errorsRef.release()
    }

    /// Starts over on another file with the same limits (the re-reads after a fault). Names interned before
    /// belong to the old reader's dictionary: intern them again.
    func reopen(path newPath: String) throws(XMLFault) {
        guard let r = xmlReaderForFile(newPath, nil, XMLStream.safeOptions) else {
            throw XMLFault(code: "E-XML-OPEN", line: 0, column: nil, messageZh: "libxml2 无法打开文件 \(newPath)",
                           parserMessage: nil)
        }
        xmlFreeTextReader(reader)
        reader = r
        path = newPath
        errors.first = nil
        xmlTextReaderSetStructuredErrorHandler(reader, { ctx, err in
            guard let ctx, let err else { return }
            Unmanaged<ErrorBox>.fromOpaque(ctx).takeUnretainedValue().record(err.pointee)
        }, errorsRef.toOpaque())
        whitespaceLine = 0
        whitespaceJustBefore = false
        depth = 0
        lineOffset = 0
    }

    /// The dictionary-interned form of `name`, for pointer comparison with `localName` and `namespaceURI`.
    func interned(_ name: String) -> UnsafePointer<UInt8> {
        xmlTextReaderConstString(reader, name)
    }

    /// Advances to the next element start, element end or text node; nil at the end of the document.
    func next() throws(XMLFault) -> XMLNodeKind? {
        whitespaceJustBefore = false
        while true {
            let rc = xmlTextReaderRead(reader)
            if rc == 0 {
                if let fault = errors.fault(fallbackLine: parserLine) { throw fault }
                return nil
            }
            if rc < 0 { throw errors.fault(fallbackLine: parserLine) ?? XMLFault(
                code: "E-XML-MALFORMED", line: parserLine, column: nil,
                messageZh: "XML 解析失败（libxml2 未给出原因）", parserMessage: nil) }
            let type = xmlTextReaderNodeType(reader)
            switch type {
            case 1: // element
                localName = xmlTextReaderConstLocalName(reader)
                namespaceURI = xmlTextReaderConstNamespaceUri(reader)
                depth = Int(xmlTextReaderDepth(reader)) + 1
                isEmptyElement = xmlTextReaderIsEmptyElement(reader) == 1
                if depth > limits.maxDepth {
                    throw XMLFault(code: "E-XML-LIMIT", line: currentLine, column: nil,
                                   messageZh: "元素嵌套深度超过上限 \(limits.maxDepth) 层，文档被拒绝", parserMessage: nil)
                }
                kind = .start
            case 15: // end element
                localName = xmlTextReaderConstLocalName(reader)
                namespaceURI = xmlTextReaderConstNamespaceUri(reader)
                depth = Int(xmlTextReaderDepth(reader)) + 1
                isEmptyElement = false
                kind = .end
            case 3, 4: // text, CDATA (NOCDATA turns CDATA into text, kept for safety)
                kind = .text
                if let v = xmlTextReaderConstValue(reader), strlen(v) > limits.maxTextBytes {
                    throw XMLFault(code: "E-XML-LIMIT", line: parserLine, column: nil,
                                   messageZh: "文本节点超过长度上限 \(limits.maxTextBytes) 字节，文档被拒绝", parserMessage: nil)
                }
            case 13, 14: // whitespace, significant whitespace
                whitespaceLine = xmlGetLineNo(xmlTextReaderCurrentNode(reader))
                whitespaceJustBefore = true
                continue
            case 5: // entity reference: never expanded, never allowed (probe §1 policy)
                let name = String(cString: xmlTextReaderConstName(reader))
                throw XMLFault(code: "E-XML-ENTITY", line: nodeLine, column: nil,
                               messageZh: "文档引用了实体 &\(name);：yingtong 不展开任何实体（防止外部实体注入与实体膨胀攻击），文档被拒绝",
                               parserMessage: nil)
            case 10: // DOCTYPE
                throw doctypeFault()
            default:
                whitespaceJustBefore = false
                continue
            }
            return kind
        }
    }

    private func doctypeFault() -> XMLFault {
        let line = doctypeLine() ?? nodeLine
        var declaresEntities = false
        var external: String?
        if let node = xmlTextReaderCurrentNode(reader), node.pointee.type == XML_DTD_NODE {
            let dtd = UnsafeMutableRawPointer(node).assumingMemoryBound(to: xmlDtd.self)
            declaresEntities = dtd.pointee.entities != nil || dtd.pointee.pentities != nil
            if let s = dtd.pointee.SystemID { external = String(cString: s) }
            else if let p = dtd.pointee.ExternalID { external = String(cString: p) }
        }
        if declaresEntities {
            return XMLFault(code: "E-XML-ENTITY", line: line, column: nil,
                            messageZh: "文档类型声明（DOCTYPE）中定义了实体：yingtong 不展开任何实体（防止实体膨胀与外部实体注入），文档被拒绝",
                            parserMessage: nil)
        }
        if let external {
            return XMLFault(code: "E-XML-DTD", line: line, column: nil,
                            messageZh: "文档引用了外部 DTD（\(external)）：yingtong 不加载 DTD，文档被拒绝", parserMessage: nil)
        }
        return XMLFault(code: "E-XML-DTD", line: line, column: nil,
                        messageZh: "文档含有文档类型声明（DOCTYPE）：yingtong 的输入不使用 DTD，文档被拒绝", parserMessage: nil)
    }

    /// libxml2 gives a DTD node no line; the declaration sits in the prolog, so the file's first bytes tell.
    private func doctypeLine() -> Int? {
        guard let fh = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? fh.close() }
        guard let head = try? fh.read(upToCount: 1 << 16) else { return nil }
        let bytes = [UInt8](head)
        let needle = Array("<!DOCTYPE".utf8)
        guard bytes.count >= needle.count else { return nil }
        for i in 0...(bytes.count - needle.count) where bytes[i] == needle[0] && Array(bytes[i..<i + needle.count]) == needle {
            return 1 + bytes[..<i].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }
        return nil
    }

    /// The line of libxml2's parser, which reads ahead of the node by up to a chunk (512 bytes).
    var parserLine: Int { Int(xmlTextReaderGetParserLineNumber(reader)) + lineOffset }

    /// Added to every line: a re-read fragment of a file reports the file's lines.
    var lineOffset = 0

    /// The line libxml2 stamped on the current node (for an element: where its start tag ends).
    var nodeLine: Int {
        guard let node = xmlTextReaderCurrentNode(reader) else { return parserLine }
        let l = xmlGetLineNo(node)
        return l > 0 && l < 65535 ? l + lineOffset : parserLine
    }

    /// The best line for the current node: where its tag starts when indentation precedes it (exact at any line
    /// count), else libxml2's line for the node.
    var currentLine: Int { whitespaceJustBefore ? whitespaceLine + lineOffset : nodeLine }

    /// The namespace prefix of the current node, nil when it has none.
    var prefix: UnsafePointer<UInt8>? { xmlTextReaderConstPrefix(reader) }

    /// The current text node's value (valid until the next `next()`).
    var value: UnsafePointer<UInt8>? { xmlTextReaderConstValue(reader) }

    /// Calls `body(localName, namespaceURI, value)` for each attribute of the current element; namespace
    /// declarations are not attributes here.
    func forEachAttribute(_ body: (UnsafePointer<UInt8>, UnsafePointer<UInt8>?, UnsafePointer<UInt8>) throws(XMLFault) -> Void) throws(XMLFault) {
        guard xmlTextReaderHasAttributes(reader) == 1 else { return }
        defer { xmlTextReaderMoveToElement(reader) }
        var rc = xmlTextReaderMoveToFirstAttribute(reader)
        while rc == 1 {
            if xmlTextReaderIsNamespaceDecl(reader) != 1, let name = xmlTextReaderConstLocalName(reader),
               let v = xmlTextReaderConstValue(reader) {
                if strlen(v) > limits.maxTextBytes {
                    throw XMLFault(code: "E-XML-LIMIT", line: nodeLine, column: nil,
                                   messageZh: "属性值超过长度上限 \(limits.maxTextBytes) 字节，文档被拒绝", parserMessage: nil)
                }
                try body(name, xmlTextReaderConstNamespaceUri(reader), v)
            }
            rc = xmlTextReaderMoveToNextAttribute(reader)
        }
    }

    /// The encoding the document declared (or libxml2 detected), once reading has started.
    var documentEncoding: String? { xmlTextReaderConstEncoding(reader).map { String(cString: $0) } }

    /// The first error libxml2 reported, if any (for a document that ended without `next()` throwing).
    var pendingFault: XMLFault? { errors.fault(fallbackLine: parserLine) }
}

/// Collects libxml2's structured errors; the first error (not warning) is the one people need to see.
private final class ErrorBox {
    var first: (code: Int32, domain: Int32, message: String, line: Int, column: Int)?

    func record(_ e: xmlError) {
        guard e.level.rawValue >= XML_ERR_ERROR.rawValue, first == nil else { return }
        var msg = e.message.map { String(cString: $0) } ?? ""
        while msg.last == "\n" || msg.last == " " { msg.removeLast() }
        first = (e.code, e.domain, msg, Int(e.line), Int(e.int2))
    }

    func fault(fallbackLine: Int) -> XMLFault? {
        guard let f = first else { return nil }
        let line = f.line > 0 ? f.line : fallbackLine
        let code: String
        let why: String
        switch UInt32(bitPattern: f.code) {
        case XML_ERR_UNDECLARED_ENTITY.rawValue, XML_WAR_UNDECLARED_ENTITY.rawValue, XML_ERR_UNPARSED_ENTITY.rawValue,
             XML_ERR_ENTITY_IS_EXTERNAL.rawValue, XML_ERR_ENTITY_IS_PARAMETER.rawValue, XML_ERR_ENTITY_LOOP.rawValue,
             XML_ERR_ENTITY_BOUNDARY.rawValue, XML_ERR_ENTITY_PE_INTERNAL.rawValue, XML_ERR_ENTITY_NOT_STARTED.rawValue,
             XML_ERR_ENTITY_NOT_FINISHED.rawValue, XML_ERR_ENTITY_CHAR_ERROR.rawValue, XML_ERR_ENTITY_PROCESSING.rawValue:
            code = "E-XML-ENTITY"
            why = "文档使用了实体，yingtong 不展开任何实体，文档被拒绝"
        case XML_ERR_UNSUPPORTED_ENCODING.rawValue, XML_ERR_UNKNOWN_ENCODING.rawValue, XML_ERR_INVALID_ENCODING.rawValue,
             XML_I18N_CONV_FAILED.rawValue, XML_I18N_NO_NAME.rawValue, XML_I18N_NO_HANDLER.rawValue,
             XML_ERR_INVALID_CHAR.rawValue:
            code = "E-ENCODING"
            why = "文档的字节与其声明的编码不符或编码不受支持"
        default:
            code = "E-XML-MALFORMED"
            why = "XML 格式错误（不是格式良好的 XML）"
        }
        return XMLFault(code: code, line: line, column: f.column > 0 ? f.column : nil,
                        messageZh: "\(why)：\(f.message)", parserMessage: f.message)
    }
}

extension UnsafePointer where Pointee == UInt8 {
    /// The C string's bytes as a Swift String (UTF-8: libxml2 hands out UTF-8 whatever the document's encoding).
    var string: String { String(cString: self) }
}
