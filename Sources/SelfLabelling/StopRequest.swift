import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A stop requested by SIGINT (Ctrl-C) or SIGTERM: the trainer polls it between iterations, writes a
/// checkpoint and returns cleanly. A second signal while stopping falls back to the default action.
public enum StopRequest {
    private static let flag = Atomic<Int32>(0)

    /// The signal number that requested the stop, or nil.
    public static var signal: Int32? {
        let s = flag.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }

    /// Requests a stop as if `signal` had arrived (tests and embedding applications).
    public static func request(signal: Int32 = SIGINT) { flag.store(signal, ordering: .relaxed) }

    /// Clears a pending request.
    public static func reset() { flag.store(0, ordering: .relaxed) }

    /// Installs the SIGINT and SIGTERM handlers. The handler only loads and stores one atomic and, for a second
    /// signal, restores the default action and re-raises it: all async-signal-safe. The flag is touched here
    /// first, so the handler never runs the lazy initialisation of a global (`swift_once`).
    public static func installHandlers() {
        _ = flag.load(ordering: .relaxed)
        let handler: @convention(c) (Int32) -> Void = { sig in
            if StopRequest.flag.load(ordering: .relaxed) != 0 {
                Glibc.signal(sig, SIG_DFL)
                Glibc.raise(sig)
                return
            }
            StopRequest.flag.store(sig, ordering: .relaxed)
        }
        Glibc.signal(SIGINT, handler)
        Glibc.signal(SIGTERM, handler)
        // A parent may have started us with these signals blocked; unblock them so the handler runs.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
