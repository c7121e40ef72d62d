import FoDCore
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird

/// The audit log in the back office (docs/back-office.md): search by subject, person, action and
/// time, newest first, a page at a time; verify the hash chain. For the auditor role (and admin).
extension AdminWebRoutes {
    static let auditPage = 100
    /// How many entries one search without a subject reads at most (then it goes on from there).
    static let auditWindow: Int64 = 250_000

    func registerAudit(on router: Router<FoDRequestContext>) {
        router.get("/admin/audit") { request, context in
            await withSession(request, context) { session in
                try requireRole(.auditor, session)
                let query = request.uri.queryParameters
                func field(_ name: String, max: Int) throws -> String? {
                    guard let value = query[Substring(name)].map({ String($0).trimmingCharacters(in: .whitespaces) }), !value.isEmpty else { return nil }
                    guard value.count <= max else { throw APIError(.unprocessableContent, "\(name)_invalid", "\(name) is at most \(max) characters.") }
                    return value
                }
                func day(_ name: String) throws -> Int64? {
                    guard let text = try field(name, max: 10) else { return nil }
                    guard text.utf8.count == 10, let start = Timestamp.parseSeconds(text + "T00:00:00Z") else {
                        throw APIError(.unprocessableContent, "\(name)_invalid", "\(name) is a date, YYYY-MM-DD.")
                    }
                    return start
                }
                let subject = try field("subject", max: 200), person = try field("person", max: 200), action = try field("action", max: 100)
                let from = try day("from"), to = try day("to").map { $0 + 86_400 }
                let before = try field("before", max: 20).map { text -> Int64 in
                    guard let value = Int64(text), value > 0 else { throw APIError(.unprocessableContent, "before_invalid", "before is an entry number.") }
                    return value
                }
                // A subject is found by its index; any other search reads a bounded window of the log at a time.
                let (entries, searchedFrom) = try await services.store.searchAudit(subject: subject, actor: person, action: action, from: from, to: to,
                                                                                   before: before, window: subject == nil ? AdminWebRoutes.auditWindow : nil,
                                                                                   limit: AdminWebRoutes.auditPage)
                var values = base(session, title: "Audit log")
                values["entries"] = entries.map(AdminWebRoutes.entryRow)
                values["hasEntries"] = !entries.isEmpty
                for (name, value) in [("subject", subject), ("person", person), ("action", action), ("from", try field("from", max: 10)), ("to", try field("to", max: 10))] {
                    if let value { values[name] = value }
                }
                let next: Int64? = entries.count == AdminWebRoutes.auditPage ? entries.last?.seq : searchedFrom
                if let next {
                    var items = [("before", String(next))]
                    for name in ["subject", "person", "action", "from", "to"] { if let value = try field(name, max: 200) { items.append((name, value)) } }
                    values["next"] = "/admin/audit?" + items.map { "\($0.0)=\(OIDCClient.encode($0.1))" }.joined(separator: "&")
                    if entries.count < AdminWebRoutes.auditPage, let searchedFrom {
                        values["window"] = "Searched the entries from #\(searchedFrom) on\(before.map { " to #\($0 - 1)" } ?? ""); older ones are searched on the next page."
                    }
                }
                return pages.page("admin_audit", values)
            }
        }
        router.post("/admin/audit/verify") { request, context in
            await withSession(request, context) { session in
                _ = try await postedForm(request, session, role: .auditor)
                var values = base(session, title: "Audit log")
                do {
                    let count = try await services.store.verifyAudit()
                    values["notice"] = "The chain of \(count) entries verifies."
                } catch let error as StoreError where error.code == .auditBroken {
                    values["error"] = ["heading": "The chain is broken.", "message": error.reason]
                }
                return pages.page("admin_audit", values)
            }
        }
    }
}
