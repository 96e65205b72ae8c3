import Foundation

/// A fresh, empty folder under the system's temporary directory, named `selflabel-<tag>-<UUID>`; tests write
/// only inside such folders. Every folder made here is removed when the test process exits normally (a run of
/// the suite used to leave about 2 GB of them behind: checkpoints, images, outputs), unless
/// `SELFLABEL_KEEP_TEST_FOLDERS=1` keeps them for a look after a failure.
public func temporaryFolder(_ tag: String = "test") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("selflabel-\(tag)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    TemporaryFolders.shared.add(dir)
    return dir
}

/// The folders `temporaryFolder` made in this process, removed at exit.
final class TemporaryFolders: @unchecked Sendable {
    static let shared = TemporaryFolders()
    private let lock = NSLock()
    private var paths: [String] = []
    private var registered = false

    func add(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.append(path)
        if !registered {
            registered = true
            atexit { TemporaryFolders.shared.removeAll() }
        }
    }

    func removeAll() {
        if ProcessInfo.processInfo.environment["SELFLABEL_KEEP_TEST_FOLDERS"] == "1" { return }
        lock.lock()
        let all = paths
        paths = []
        lock.unlock()
        for p in all { try? FileManager.default.removeItem(atPath: p) }
    }
}
