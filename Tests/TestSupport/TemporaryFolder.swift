import Foundation

/// A fresh, empty folder under the system's temporary directory, named `selflabel-<tag>-<UUID>`; tests write
/// only inside such folders and remove them when done.
public func temporaryFolder(_ tag: String = "test") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("selflabel-\(tag)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
