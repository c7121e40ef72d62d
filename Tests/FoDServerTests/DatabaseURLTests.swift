import FoDPostgres
import FoDStore
import Testing

@Suite("PostgreSQL URLs")
struct DatabaseURLTests {
    @Test("a URL gives user, password, host, port, database, TLS mode, socket folder and schema; its redacted form has no password")
    func parts() throws {
        let url = try DatabaseURL("postgres://fod:s%3Acret@db.example:6432/entitlements?sslmode=require", environment: [:])
        #expect(url.user == "fod" && url.password == "s:cret" && url.host == "db.example" && url.port == 6432 && url.database == "entitlements")
        #expect(url.tls == .require && url.socketFolder == nil && url.searchPath == nil)
        #expect(!url.redacted.contains("s:cret") && !url.redacted.contains("cret"))
        let socket = try DatabaseURL("postgresql://fod@/fod?host=/run/postgresql&search_path=t_1", environment: ["PGPASSWORD": "pw"])
        #expect(socket.socketFolder == "/run/postgresql" && socket.host == nil && socket.port == 5432 && socket.password == "pw" && socket.searchPath == "t_1")
        #expect(try DatabaseURL("postgres://fod@h/fod", environment: [:]).tls == .prefer)
    }

    @Test("a bad URL is refused with `invalid`, naming what is wrong and never the password", arguments: [
        ("mysql://fod@h/fod", "postgres://"), ("postgres://h/fod", "no user"), ("postgres://fod:pw@h/", "no database"),
        ("postgres://fod:pw@h:0/fod", "port"), ("postgres://fod:pw@h/fod?sslmode=maybe", "sslmode"),
        ("postgres://fod:pw@h/fod?application=x", "not known"), ("postgres://fod:pw@h/fod?sslrootcert=/ca.pem", "verify-full"),
        ("postgres://fod:pw@h/fod?search_path=a;drop", "search_path"),
    ])
    func refused(text: String, reason: String) {
        #expect {
            _ = try DatabaseURL(text, environment: [:])
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .invalid && error.reason.contains(reason) && !error.reason.contains("pw@")
        }
    }
}
