import Foundation

/// Progress of long work: on a terminal one line rewritten in place (`\r`), otherwise plain lines at most
/// every `interval` updates. Writes to standard error so standard output stays machine-readable.
public final class ProgressLine {
    public let isTerminal: Bool
    private var lastLength = 0
    private var lastDraw = 0.0

    public init(isTerminal: Bool = isatty(STDERR_FILENO) == 1) { self.isTerminal = isTerminal }

    /// Shows `text`; on a terminal redrawn at most 10 times a second unless `force`.
    public func show(_ text: String, force: Bool = false) {
        guard isTerminal else { return }
        let now = Date().timeIntervalSince1970
        if !force && now - lastDraw < 0.1 { return }
        lastDraw = now
        let pad = max(0, lastLength - text.count)
        FileHandle.standardError.write(Data(("\r" + text + String(repeating: " ", count: pad)).utf8))
        lastLength = text.count
    }

    /// Prints a full line (ends an in-place line first).
    public func log(_ text: String) {
        if isTerminal && lastLength > 0 {
            FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: lastLength) + "\r").utf8))
            lastLength = 0
        }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// "1h02m", "3m05s" or "12s".
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
