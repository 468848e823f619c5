import Foundation

/// The package root, found from this file's path (tests run from any working directory).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Files of a folder, sorted, as (name, bytes).
func files(in folder: URL) throws -> [(name: String, url: URL)] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        .filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }
        .map { ($0, folder.appendingPathComponent($0)) }
}

func temporaryDirectory() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-reliab-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

func containsChinese(_ s: String) -> Bool {
    s.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
}

/// Physical lines as yingtong counts them: line feeds, plus a last line without one (UTF-16: 16-bit units); in XML
/// (`loneCR`) a CR not followed by LF ends a line too.
func physicalLines(_ bytes: [UInt8], loneCR: Bool = false) -> Int {
    if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
        let le = bytes[0] == 0xFF
        var n = 0, i = 2
        var last: UInt16 = 0x0A
        while i + 1 < bytes.count {
            last = le ? UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8 : UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
            if last == 0x0A { n += 1 }
            i += 2
        }
        return n + (bytes.count > 2 && last != 0x0A ? 1 : 0)
    }
    var n = 0
    for (i, b) in bytes.enumerated() {
        if b == 0x0A || (loneCR && b == 0x0D && (i + 1 == bytes.count || bytes[i + 1] != 0x0A)) { n += 1 }
    }
    let ended = bytes.last.map { $0 == 0x0A || (loneCR && $0 == 0x0D) } ?? true
    return n + (ended ? 0 : 1)
}
