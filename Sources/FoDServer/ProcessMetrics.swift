#if canImport(Glibc)
import Glibc
#endif
import Prometheus

/// The standard process figures Prometheus users look for first (`process_resident_memory_bytes`,
/// `process_cpu_seconds_total`, `process_open_fds`, `process_start_time_seconds`,
/// `process_threads`), read from `/proc/self` at each scrape. `/proc` is served from memory by the
/// kernel, so reading it does not wait on a disk.
final class ProcessMetrics: Sendable {
    private let residentMemory: Gauge
    private let virtualMemory: Gauge
    private let cpuSeconds: Gauge
    private let openFiles: Gauge
    private let threads: Gauge

    init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String, _ help: String) -> Gauge { registry.makeGauge(name: name, help: help) }
        residentMemory = gauge("process_resident_memory_bytes", "Resident memory size in bytes")
        virtualMemory = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes")
        cpuSeconds = gauge("process_cpu_seconds_total", "User and system CPU time spent, in seconds")
        openFiles = gauge("process_open_fds", "Open file descriptors")
        threads = gauge("process_threads", "Threads of the process")
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        // The start time: now, less the time since the process started (from /proc/self/stat).
        let start = gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds")
        if let fields = ProcessMetrics.statFields(), fields.count > 19, let ticks = Double(fields[19]) {
            var uptime = timespec()
            clock_gettime(CLOCK_BOOTTIME, &uptime)
            let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
            start.set(Double(now.tv_sec) - (Double(uptime.tv_sec) - ticks / hertz))
        }
        refresh()
    }

    /// Reads the figures again.
    func refresh() {
        guard let fields = ProcessMetrics.statFields(), fields.count > 21 else { return }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        // Fields after the command: state is 0, so utime is 11, stime 12, threads 17, vsize 20, rss 21.
        if let user = Double(fields[11]), let system = Double(fields[12]) { cpuSeconds.set((user + system) / hertz) }
        if let count = Double(fields[17]) { threads.set(count) }
        if let size = Double(fields[20]) { virtualMemory.set(size) }
        if let pages = Double(fields[21]) { residentMemory.set(pages * page) }
        openFiles.set(Double(ProcessMetrics.openDescriptors()))
    }

    /// The fields of `/proc/self/stat` after the command name (which may hold spaces).
    private static func statFields() -> [Substring]? {
        guard let text = read("/proc/self/stat"), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func openDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while readdir(directory) != nil { count += 1 }
        return max(count - 3, 0)  // ".", "..", and the descriptor of the listing itself
    }
}
