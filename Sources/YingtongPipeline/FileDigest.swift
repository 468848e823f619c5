import Foundation
import COpenSSL

/// SHA-256 of an input file, streamed in 1 MiB chunks (the run manifest records it for every input).
public enum FileDigest {
    public static func sha256(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw YingtongError("E-INPUT-OPEN", "无法打开输入文件 \(path)")
        }
        defer { try? handle.close() }
        guard let ctx = EVP_MD_CTX_new() else { throw YingtongError("E-DIGEST", "无法初始化 SHA-256") }
        defer { EVP_MD_CTX_free(ctx) }
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { _ = EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(ctx, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}

import YingtongModel
