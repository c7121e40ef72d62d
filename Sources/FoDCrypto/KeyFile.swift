#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing PEM key files with the permissions private keys need.
public enum KeyFile {
    /// Writes a private key as PKCS#8 PEM to a new file with mode 0600. Refuses to overwrite.
    /// - Throws: ``CryptoError`` `key_file_io`.
    public static func writePrivateKey(_ key: PrivateKey, to path: String) throws {
        try write(key.pkcs8PEM(), to: path, mode: 0o600)
    }

    /// Writes a public key as PEM SubjectPublicKeyInfo to a new file with mode 0644. Refuses to overwrite.
    /// - Throws: ``CryptoError`` `key_file_io`.
    public static func writePublicKey(_ key: PublicKey, to path: String) throws {
        try write(key.pem(), to: path, mode: 0o644)
    }

    /// Reads a private key; refuses a file that group or others may access.
    /// - Throws: ``CryptoError`` `key_file_permissions`, `key_file_io`, or a parse error.
    public static func readPrivateKey(at path: String) throws -> PrivateKey {
        try PrivateKey(pem: readSecret(at: path, what: "private key file"))
    }

    /// Reads a file holding a secret (a private key, a PIN); refuses one that group or others may access.
    /// - Throws: ``CryptoError`` `key_file_permissions` or `key_file_io`.
    static func readSecret(at path: String, what: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CryptoError(.keyFileIO, "cannot read \(what) '\(path)': \(errnoText())") }
        if info.st_mode & 0o077 != 0 {
            throw CryptoError(.keyFilePermissions,
                              "\(what) '\(path)' has mode \(String(info.st_mode & 0o777, radix: 8)); it must not be accessible by group or others (chmod 600)")
        }
        return try read(path)
    }

    /// Reads a public key from a PEM file holding either a public key or a private key (whose
    /// public half is taken; the private-key permission rule applies).
    /// - Throws: ``CryptoError`` `key_file_io`, `key_file_permissions`, or a parse error.
    public static func readPublicKey(at path: String) throws -> PublicKey {
        let text = try read(path)
        if text.contains("PRIVATE KEY-----") { return try readPrivateKey(at: path).publicKey }
        return try PublicKey(pem: text)
    }

    /// Reads a whole text file.
    static func read(_ path: String) throws -> String {
        guard let file = fopen(path, "rb") else { throw CryptoError(.keyFileIO, "cannot read key file '\(path)': \(errnoText())") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            bytes.append(contentsOf: chunk.prefix(count))
            if bytes.count > 1 << 20 { throw CryptoError(.keyFileIO, "key file '\(path)' is larger than 1 MiB") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func write(_ text: String, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw CryptoError(.keyFileIO, "cannot create '\(path)': \(errnoText())") }
        defer { close(fd) }
        // The umask may only have narrowed the mode; set it exactly.
        guard fchmod(fd, mode) == 0 else { throw CryptoError(.keyFileIO, "cannot set the mode of '\(path)': \(errnoText())") }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { throw CryptoError(.keyFileIO, "cannot write '\(path)': \(errnoText())") }
            offset += written
        }
        guard fsync(fd) == 0 else { throw CryptoError(.keyFileIO, "cannot sync '\(path)': \(errnoText())") }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
