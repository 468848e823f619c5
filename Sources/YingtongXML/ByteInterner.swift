import Foundation

/// Maps the bytes of a NUL-terminated C string to a small integer, without making a String: `field` and `unit`
/// attributes repeat the same few dozen values millions of times, and a String plus a Swift hash per value was
/// the largest cost after libxml2 itself. Open addressing over a fixed table; once full, callers take the slow
/// path (a plain String), so a hostile file of a million distinct labels costs speed, not memory.
struct ByteInterner {
    private static let capacity = 2048
    private var slots = [Int32](repeating: -1, count: ByteInterner.capacity)
    private var hashes: [UInt32] = []
    private var keys: [[UInt8]] = []
    private(set) var strings: [String] = []

    /// The entry for `p`, or nil when the table is full and `p` is new.
    mutating func index(of p: UnsafePointer<UInt8>) -> Int? {
        var h: UInt32 = 2_166_136_261
        var n = 0
        while p[n] != 0 {
            h = (h ^ UInt32(p[n])) &* 16_777_619
            n += 1
        }
        var slot = Int(h) & (Self.capacity - 1)
        while true {
            let e = Int(slots[slot])
            if e < 0 { break }
            if hashes[e] == h && keys[e].count == n && (n == 0 || keys[e].withUnsafeBufferPointer({ memcmp($0.baseAddress!, p, n) == 0 })) {
                return e
            }
            slot = (slot + 1) & (Self.capacity - 1)
        }
        guard keys.count < Self.capacity * 3 / 4 else { return nil }
        let bytes = Array(UnsafeBufferPointer(start: p, count: n))
        slots[slot] = Int32(keys.count)
        hashes.append(h)
        keys.append(bytes)
        strings.append(String(decoding: bytes, as: UTF8.self))
        return keys.count - 1
    }
}
