import Foundation
import YingtongModel

/// A Mustache subset for the one part of the reports that repeats hundreds of thousands of times: a table row.
///
/// Written by hand because swift-mustache spent about 23 µs per enterprise row (a context-stack lookup and a
/// dynamic cast per tag, character-by-character escaping): at a million enterprises the list pages alone took
/// longer than the rules. The row stays a template file (`enterprise-row.mustache`) that a designer edits like
/// the others; this renderer understands what a flat row needs — `{{name}}` (HTML-escaped as Mustache escapes),
/// `{{{name}}}` (raw), `{{#flag}}…{{/flag}}` and `{{^flag}}…{{/flag}}` — and rejects anything else when the
/// template is loaded, so a tag it does not know can never be silently dropped.
public struct RowTemplate: Sendable {
    public enum Value: Sendable {
        case text(String)
        case flag(Bool)
    }

    indirect enum Part: Sendable {
        case literal([UInt8])
        case variable(String, escaped: Bool)
        case section(String, inverted: Bool, [Part])
    }

    let parts: [Part]

    public init(_ text: String, name: String = "row") throws {
        var bytes = Array(text.utf8)
        // A row template file ends with a newline for the editor's sake; the row itself does not.
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        var index = 0
        var stack: [(name: String, inverted: Bool, parts: [Part])] = [("", false, [])]
        var literal: [UInt8] = []
        func flushLiteral() {
            if !literal.isEmpty { stack[stack.count - 1].parts.append(.literal(literal)); literal = [] }
        }
        func fail(_ why: String) -> YingtongError {
            YingtongError("E-REPORT-TEMPLATE", "报告行模板 \(name) 第 \(index + 1) 字节：\(why)")
        }
        let open: [UInt8] = Array("{{".utf8)
        while index < bytes.count {
            guard bytes[index...].starts(with: open) else { literal.append(bytes[index]); index += 1; continue }
            let triple = bytes[(index + 2)...].first == UInt8(ascii: "{")
            let start = index + (triple ? 3 : 2)
            let close: [UInt8] = Array((triple ? "}}}" : "}}").utf8)
            guard let end = Self.find(close, in: bytes, from: start) else { throw fail("标签没有结束的 }}") }
            let tag = String(decoding: bytes[start..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            flushLiteral()
            index = end + close.count
            guard let sigil = tag.first else { throw fail("空标签") }
            let key = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces)
            switch sigil {
            case "#", "^":
                stack.append((key, sigil == "^", []))
            case "/":
                guard stack.count > 1, stack[stack.count - 1].name == key else { throw fail("{{/\(key)}} 没有对应的开始标签") }
                let done = stack.removeLast()
                stack[stack.count - 1].parts.append(.section(done.name, inverted: done.inverted, done.parts))
            case "!":
                continue
            case ">", "&", "=", "%":
                throw fail("行模板不支持 {{\(tag)}}（只支持变量和真假分节）")
            default:
                stack[stack.count - 1].parts.append(.variable(tag, escaped: !triple))
            }
        }
        flushLiteral()
        guard stack.count == 1 else { throw fail("{{#\(stack[stack.count - 1].name)}} 没有结束标签") }
        parts = stack[0].parts
    }

    /// Appends the row for `values` to `out`; a name with no value renders as nothing (as in Mustache).
    public func render(_ values: [String: Value], into out: inout [UInt8]) {
        Self.render(parts, values, into: &out)
    }

    private static func render(_ parts: [Part], _ values: [String: Value], into out: inout [UInt8]) {
        for part in parts {
            switch part {
            case .literal(let bytes):
                out.append(contentsOf: bytes)
            case .variable(let name, let escaped):
                guard case .text(let s)? = values[name] else { continue }
                if escaped { appendEscaped(s, to: &out) } else { out.append(contentsOf: s.utf8) }
            case .section(let name, let inverted, let inner):
                var on = false
                switch values[name] {
                case .flag(let b)?: on = b
                case .text(let s)?: on = !s.isEmpty
                case nil: on = false
                }
                if on != inverted { render(inner, values, into: &out) }
            }
        }
    }

    /// Mustache's HTML escaping (the same five characters, the same entities), over bytes.
    static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "\""): out.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): out.append(contentsOf: "&#39;".utf8)
            default: out.append(b)
            }
        }
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        var i = from
        while i + needle.count <= bytes.count {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
