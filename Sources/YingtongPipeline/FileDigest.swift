import Foundation
import COpenSSL

/// SHA-256 of an input file, streamed in 1 MiB chunks (the run manifest records it for every input).
public enum FileDigest {
    public static func sha256(path: String) throws -> String {
        // POSIX reads: Foundation's FileHandle traps (try!) on a read error such as a folder given as a file.
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw YingtongError("E-INPUT-OPEN", "无法打开输入文件 \(path)") }
        defer { close(fd) }
        guard let ctx = EVP_MD_CTX_new() else { throw YingtongError("E-DIGEST", "无法初始化 SHA-256") }
        defer { EVP_MD_CTX_free(ctx) }
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw YingtongError("E-INPUT-READ", "读取 \(path) 失败：\(String(cString: strerror(errno)))") }
            if n == 0 { break }
            buffer.withUnsafeBytes { _ = EVP_DigestUpdate(ctx, $0.baseAddress, n) }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(ctx, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}

import YingtongModel
