import Foundation
import Testing

/// Result of running the built `selflabel` binary.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// True when the process died of a signal (`status` is then the signal number).
    var signalled = false
}

/// The `selflabel` executable built next to the test bundle.
func selflabelBinary() -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // The runner may be inside the .xctest bundle folder.
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("selflabel").path) && dir.path != "/" {
        dir = dir.deletingLastPathComponent()
    }
    return dir.appendingPathComponent("selflabel")
}

/// Runs `selflabel arguments…` and collects its output.
func runSelflabel(_ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
    let p = Process()
    p.executableURL = selflabelBinary()
    p.arguments = arguments
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CommandResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self), signalled: p.terminationReason == .uncaughtSignal)
}
