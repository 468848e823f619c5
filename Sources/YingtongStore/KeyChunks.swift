/// Keys for `IN (…)` queries, in chunks under SQLite's default limit of 999 bound parameters (a few slots are
/// left for the query's other arguments), each with its `?,?,…` placeholder list.
public enum KeyChunks {
    public static let size = 900

    public static func forEach(_ keys: [String], _ body: (_ chunk: [String], _ marks: String) throws -> Void) rethrows {
        var start = 0
        while start < keys.count {
            let chunk = Array(keys[start..<min(keys.count, start + size)])
            start += chunk.count
            try body(chunk, Array(repeating: "?", count: chunk.count).joined(separator: ","))
        }
    }
}
