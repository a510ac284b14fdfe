import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Progress of a long job for the person watching it, always on stderr (stdout keeps the result,
/// `--json` included): on a terminal one line redrawn after every batch; otherwise (a CI log, a
/// pipe, a file) one line every `interval`, which is what a log can hold.
final class ProgressLine: @unchecked Sendable {
    /// How progress is shown.
    enum Style: Equatable {
        /// Redrawn in place (`\r`) on every update.
        case live
        /// One line every so often.
        case periodic(Duration)
        /// Nothing.
        case none

        /// `live` when both stdout and stderr are a terminal and the output is for people; else a
        /// line every `interval` (none for an interval of 0).
        static func choose(json: Bool, interval: Duration) -> Style {
            if !json && isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1 { return .live }
            return interval > .zero ? .periodic(interval) : .none
        }
    }

    private let label: String
    private let style: Style
    private let started = Date()
    private let lock = NSLock()
    private var keys = 0
    private var bytes: Int?
    private var total: Int?
    /// The first update: rates count from it, so a resumed run's earlier keys do not inflate them.
    private var baseline: (keys: Int, bytes: Int, at: Date)?
    private var ticker: Task<Void, Never>?

    /// `label` starts every periodic line (`migrate`, `compare`); `total` is the expected key count, for the ETA.
    init(label: String, style: Style, total: Int? = nil) {
        self.label = label
        self.style = style
        self.total = total.flatMap { $0 > 0 ? $0 : nil }
        guard case .periodic(let interval) = style else { return }
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                guard let self else { return }
                self.write(self.line() + "\n")
            }
        }
    }

    /// The totals so far.
    func update(keys: Int, bytes: Int? = nil) {
        lock.withLock {
            if baseline == nil { baseline = (keys, bytes ?? 0, Date()) }
            self.keys = keys
            self.bytes = bytes
        }
        if style == .live { write("\r" + line() + "   ") }
    }

    /// Ends the periodic lines (and the live line's row).
    func finish() {
        ticker?.cancel()
        ticker = nil
        if style == .live { write("\r\u{1B}[K") }
    }

    deinit { ticker?.cancel() }

    /// `12000 of 30000 keys (40%), 3900 keys/s, 1.2 MB/s, ETA 5 s`.
    func line() -> String {
        let (keys, bytes, total, baseline) = lock.withLock { (self.keys, self.bytes, self.total, self.baseline) }
        let now = Date()
        let elapsed = max(0.001, now.timeIntervalSince(started))
        // from the first update on (once it is a moment old); until then, from the start
        let base = baseline.flatMap { now.timeIntervalSince($0.at) >= 0.2 ? $0 : nil } ?? (keys: 0, bytes: 0, at: started)
        let span = max(0.001, now.timeIntervalSince(base.at))
        let rate = Double(keys - base.keys) / span
        var text = style == .live ? "" : "\(label): "
        if let total {
            text += "\(keys) of \(total) keys (\(Int(min(100, Double(keys) * 100 / Double(total))))%)"
        } else {
            text += "\(keys) keys"
        }
        text += String(format: ", %.0f keys/s", rate)
        if let bytes { text += ", \(Self.format(bytesPerSecond: Double(bytes - base.bytes) / span))" }
        if let total, rate > 0 {
            text += total > keys ? ", ETA \(Self.format(Double(total - keys) / rate))" : ", finishing"
        }
        if style != .live { text += ", \(Self.format(elapsed)) so far" }
        return text
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func format(bytesPerSecond: Double) -> String {
        if bytesPerSecond >= 1e6 { return String(format: "%.1f MB/s", bytesPerSecond / 1e6) }
        return String(format: "%.0f KB/s", bytesPerSecond / 1e3)
    }

    static func format(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 120 { return "\(s) s" }
        if s < 7200 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s / 60 % 60) min"
    }
}
