import DataPipeline
import Foundation
import TestSupport
import Testing

/// The run report: written by `train`, rewritten by `selflabel report`, and viewable offline (rendered by
/// headless Chromium, which `scripts/bootstrap --tests` installs).
@Suite struct ReportCommandTests {
    /// A headless Chromium on PATH and the arguments that make it headless.
    static func chromium() -> (path: String, arguments: [String])? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init)
        for (name, extra) in [("chromium-headless-shell", []), ("chromium", ["--headless"]), ("google-chrome", ["--headless"])] {
            for dir in dirs where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
                return (dir + "/" + name, extra)
            }
        }
        return nil
    }

    @Test("train writes report.html; headless Chromium renders it with its charts and the cluster gallery")
    func trainWritesAViewableReport() throws {
        let data = try temporaryFolder("report-data")
        try writeTinyCIFAR10(data, perFile: 12)
        let exp = try temporaryFolder("report-exp") + "/run <1>"
        let r = try runSelflabel(["train", "--data", data, "--exp", exp, "--arch", "convnet_tiny", "--epochs", "2", "--hc", "2",
                                  "--ncl", "4", "--batch-size", "20", "--nopts", "2", "--log-iter", "1", "--workers", "1"])
        try #require(r.status == 0, "training failed: \(r.stderr)")
        #expect(r.stderr.contains("run report: \(exp)/report.html"), "\(r.stderr)")
        let page = try String(contentsOfFile: exp + "/report.html", encoding: .utf8)
        #expect(page.components(separatedBy: "<svg").count - 1 == 6)
        #expect(page.contains("<img src=\"clusters/clusters.png\"") && FileManager.default.fileExists(atPath: exp + "/clusters/clusters.png"))
        #expect(page.contains("run &lt;1&gt;") && !page.contains("run <1>"))
        #expect(page.contains("2 epochs: finished; 6 iterations"), "\(page.prefix(1200))")

        // `selflabel report` writes the same page elsewhere, the gallery then linked by absolute file URL.
        let out = try temporaryFolder("report-out") + "/page.html"
        let again = try runSelflabel(["report", exp, "--out", out])
        #expect(again.status == 0 && again.stdout == out + "\n", "\(again.stderr)")
        let moved = try String(contentsOfFile: out, encoding: .utf8)
        #expect(moved.contains("src=\"file://") && moved.contains("clusters.png"))

        let browser = try #require(Self.chromium(), "no headless Chromium on PATH: run scripts/bootstrap --tests")
        let shot = try temporaryFolder("report-shot") + "/page.png"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: browser.path)
        p.arguments = browser.arguments + ["--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1360,1400",
                                           "--screenshot=\(shot)", URL(fileURLWithPath: exp + "/report.html").absoluteString]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "Chromium exited with \(p.terminationStatus)")
        let image = try ImageDecoder().decodeFile(shot)
        #expect(image.width == 1360 && image.height == 1400)
        // Non-blank: text and chart frames darken a good share of the page, the chart lines and the gallery's
        // thumbnails bring saturated colour (a page that failed to render is white or grey).
        var dark = 0, coloured = 0
        for i in stride(from: 0, to: image.pixels.count, by: image.channels) {
            let (r, g, b) = (Int(image.pixels[i]), Int(image.pixels[i + 1]), Int(image.pixels[i + 2]))
            if r + g + b < 600 { dark += 1 }
            if max(r, g, b) - min(r, g, b) > 80 { coloured += 1 }
        }
        let total = image.width * image.height
        #expect(dark > total / 100 && coloured > total / 1000, "dark \(dark), coloured \(coloured) of \(total) pixels")
    }

    @Test("report on a folder that is not a run is one error line naming it")
    func notARun() throws {
        let dir = try temporaryFolder("report-none")
        for (path, words) in [(dir, "metrics.jsonl"), (dir + "/missing", "no such experiment folder")] {
            let r = try runSelflabel(["report", path])
            #expect(r.status != 0)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && r.stderr.contains(path) && r.stderr.contains(words), "\(r.stderr)")
        }
    }
}
