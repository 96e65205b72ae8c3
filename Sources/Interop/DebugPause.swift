import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A testing and debugging knob: with `SELFLABEL_DEBUG_PAUSE=<point>:<text>` in the environment, the process
/// pauses once, at the first named point whose detail matches `<text>`, after printing
/// `selflabel: debug pause at <point> <detail>` on standard error, so a test (or a person) can deliver a signal
/// or a kill at an exact place. The pause lasts `maximumSeconds` or until the point's stop condition holds
/// (for example a stop request by SIGINT). Points:
///
/// - `write`: inside `AtomicFile.write`, halfway through the first chunk of a file whose path contains
///   `<text>` (the temporary file is then half written, the destination untouched);
/// - `iteration`: in training, after SGD step `<text>` (the 0-based global iteration), before the stop check;
/// - `label-pass`: in training, after the first batch of label optimisation `<text>` (1-based)'s network pass.
///
/// Without the variable (always, in normal use) every check is one relaxed atomic load.
public enum DebugPause {
    /// The longest pause.
    public static let maximumSeconds = 30.0

    private static let request: (point: String, text: String)? = {
        guard let raw = getenv("SELFLABEL_DEBUG_PAUSE") else { return nil }
        let value = String(cString: raw)
        guard let colon = value.firstIndex(of: ":") else { return nil }
        return (String(value[..<colon]), String(value[value.index(after: colon)...]))
    }()
    private static let fired = Atomic<Bool>(false)

    /// Pauses here if the knob names `point` and `detail` matches (`write`: contains the text; other points:
    /// equals it), at most once per process; returns early once `stop()` is true.
    public static func at(_ point: String, _ detail: String, until stop: () -> Bool = { false }) {
        guard let r = request, r.point == point,
              point == "write" ? detail.contains(r.text) : detail == r.text,
              !fired.exchange(true, ordering: .relaxed) else { return }
        let line = Array("selflabel: debug pause at \(point) \(detail)\n".utf8)
        line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
        var waited = 0.0
        while waited < maximumSeconds && !stop() {
            usleep(10_000)
            waited += 0.01
        }
    }
}
