import Foundation
import TestSupport
import Testing

/// `selflabel export`, `convert`, `.pth` checkpoints and CSV labels, end to end on the evaluation tests' network.
@Suite(.serialized) struct InteropCommandTests {
    @Test func pthExportIsUsableEverywhereAndConvertsBackExactly() throws {
        let (data, exp) = EvaluationCommandTests.workspace
        let weights = exp + "/model_final.safetensors", pth = exp + "/exported.pth"
        var r = try runSelflabel(["export", "--checkpoint", weights, "--format", "pth", "--out", pth])
        #expect(r.status == 0 && r.stdout.contains("official names"), "\(r.stderr)")
        // Features from the .pth equal those from our own file, bit for bit.
        for (checkpoint, out) in [(weights, exp + "/f-st.npy"), (pth, exp + "/f-pth.npy")] {
            r = try runSelflabel(["features", "--checkpoint", checkpoint, "--data", data, "--out", out])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: exp + "/f-st.npy")) == Data(contentsOf: URL(fileURLWithPath: exp + "/f-pth.npy")))
        r = try runSelflabel(["convert", pth, "--out", exp + "/back.safetensors"])
        #expect(r.status == 0 && r.stdout.contains("loaded as convnet_tiny") && r.stdout.contains("zip torch.save file"), "\(r.stdout) \(r.stderr)")
        r = try runSelflabel(["export", "--checkpoint", exp + "/back.safetensors", "--format", "pth", "--out", exp + "/again.pth"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: pth)) == Data(contentsOf: URL(fileURLWithPath: exp + "/again.pth")))
        r = try runSelflabel(["export", "--checkpoint", weights, "--format", "pth", "--layout", "torchvision", "--out", exp + "/tv.pth"])
        #expect(r.status != 0 && r.stderr.contains("resnet50 and resnet18"), "\(r.stderr)")
    }

    @Test func maliciousFileIsRefusedInOneLine() throws {
        let dir = try temporaryFolder("interop-evil")
        // protocol 2: GLOBAL posix.system, ('true',), REDUCE, STOP
        var bytes: [UInt8] = [0x80, 0x02, 0x63] + Array("posix\nsystem\n".utf8) + [0x58, 4, 0, 0, 0] + Array("true".utf8)
        bytes += [0x85, 0x52, 0x2E]
        let evil = dir + "/evil.pth"
        #expect(FileManager.default.createFile(atPath: evil, contents: Data(bytes)))
        for args in [["convert", evil, "--out", dir + "/x.safetensors"], ["features", "--checkpoint", evil, "--out", dir + "/f.npy"]] {
            let r = try runSelflabel(args)
            #expect(r.status != 0 && r.stderr.contains("refused to load global 'posix.system'"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.safetensors"))
    }

    @Test func clusterMetricsFromCSVEqualThoseFromNpy() throws {
        let (data, exp) = EvaluationCommandTests.workspace
        let out = exp + "/labels-for-csv"
        var r = try runSelflabel(["export-labels", "--checkpoint", exp + "/model_final.safetensors", "--data", data, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        r = try runSelflabel(["eval", "cluster", "--labels", out + ".npy", "--data", data, "--json"])
        let fromNpy = r.stdout
        #expect(r.status == 0 && fromNpy.contains("nmi"), "\(r.stderr)")
        // Rows reversed: matched by name, not position.
        let lines = try String(contentsOfFile: out + ".csv", encoding: .utf8).split(separator: "\n")
        try ([String(lines[0])] + lines.dropFirst().reversed().map(String.init)).joined(separator: "\n")
            .write(toFile: exp + "/reversed.csv", atomically: true, encoding: .utf8)
        r = try runSelflabel(["eval", "cluster", "--labels", exp + "/reversed.csv", "--data", data, "--json"])
        #expect(r.status == 0 && r.stdout == fromNpy, "\(r.stdout) vs \(fromNpy) \(r.stderr)")
    }
}
