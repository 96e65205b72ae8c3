import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A stop requested by SIGINT (Ctrl-C) or SIGTERM: the trainer polls it between iterations, writes a
/// checkpoint and returns cleanly. A second signal while stopping ends the process as the signal would.
///
/// **Signals arrive on one thread only.** The process blocks SIGINT and SIGTERM in its first thread before any
/// other thread exists (`startSignalThread()`, the first thing `selflabel` does), so every later thread inherits
/// the mask, and one thread receives them with `sigwait`. No compute thread is ever interrupted by a signal
/// handler. That matters: the JIT GEMM kernels of the oneDNN that Debian ships (2.x; fixed upstream in 3.11,
/// uxlfoundation/oneDNN#4845) point the stack register into a heap buffer while they run, so a signal frame
/// pushed on such a thread overwrites the heap. That was the rare "corrupted size vs. prev_size" abort and the
/// crash in `Tape.gradients` after a Ctrl-C (`dnnl_sgemm` runs the linear layers' backward products).
public enum StopRequest {
    private static let flag = Atomic<Int32>(0)
    private static let armed = Atomic<Bool>(false)
    private static let waiting = Atomic<Bool>(false)

    /// The signals a stop is requested with.
    public static let stopSignals: [Int32] = [SIGINT, SIGTERM]

    /// The signal number that requested the stop, or nil.
    public static var signal: Int32? {
        let s = flag.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }

    /// Requests a stop as if `signal` had arrived (tests and embedding applications).
    public static func request(signal: Int32 = SIGINT) { flag.store(signal, ordering: .relaxed) }

    /// Clears a pending request.
    public static func reset() { flag.store(0, ordering: .relaxed) }

    /// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it starts afterwards, and starts
    /// the thread that waits for them (once; later calls only block them in the calling thread). Call it first
    /// in `main`, before any other thread exists. Until `installHandlers()` arms the stop, a signal ends the
    /// process as it would have without this (or is dropped if it was ignored at start).
    public static func startSignalThread() {
        var set = stopSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        guard !waiting.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // The signals ignored when the process started (`nohup`, a shell's background job) stay ignored until armed.
        let ignored = Set(stopSignals.filter { s in
            var old = sigaction()
            sigaction(s, nil, &old)
            return unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) == 1  // SIG_IGN
        })
        let thread = Thread {
            var set = stopSet()
            while true {
                var s: Int32 = 0
                guard sigwait(&set, &s) == 0 else { continue }
                if armed.load(ordering: .relaxed) && flag.load(ordering: .relaxed) == 0 {
                    flag.store(s, ordering: .relaxed)
                } else if armed.load(ordering: .relaxed) || !ignored.contains(s) {
                    terminate(by: s)
                }
            }
        }
        thread.start()  // default stack size: a small one fails to start beside the libraries' static TLS
    }

    /// Arms the stop: from now on the first SIGINT or SIGTERM requests a stop and the second ends the process.
    /// Starts the signal thread if `startSignalThread()` was not called; a thread that existed before and does
    /// not block the signals still gets a handler that only stores the request (async-signal-safe).
    public static func installHandlers() {
        _ = flag.load(ordering: .relaxed)  // touched here first: the handler never runs a global's lazy initialiser
        startSignalThread()
        armed.store(true, ordering: .relaxed)
        let handler: @convention(c) (Int32) -> Void = { sig in
            if StopRequest.flag.load(ordering: .relaxed) != 0 {
                Glibc.signal(sig, SIG_DFL)
                Glibc.raise(sig)
                return
            }
            StopRequest.flag.store(sig, ordering: .relaxed)
        }
        for s in stopSignals { Glibc.signal(s, handler) }
    }

    /// Ends the process as an unhandled `s` does (exit status 128 + s in a shell).
    private static func terminate(by s: Int32) -> Never {
        Glibc.signal(s, SIG_DFL)
        var one = sigset_t()
        sigemptyset(&one)
        sigaddset(&one, s)
        pthread_sigmask(SIG_UNBLOCK, &one, nil)
        Glibc.raise(s)
        _exit(128 + s)
    }

    private static func stopSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in stopSignals { sigaddset(&set, s) }
        return set
    }
}
