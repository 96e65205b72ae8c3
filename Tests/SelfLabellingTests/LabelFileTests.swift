import DataPipeline
import Foundation
import Interop
import SelfLabelling
import TestSupport
import Testing

@Suite struct LabelFileTests {
    /// An image folder `root/{cat,dog}/…` with empty files (scanning does not decode them).
    static func folder() throws -> (root: String, dataset: ImageFolderDataset) {
        let root = try temporaryFolder("labels")
        for (cls, files) in [("cat", ["c1.png", "c2.png"]), ("dog", ["d1.png", "d2.png", "d3.png"])] {
            try FileManager.default.createDirectory(atPath: root + "/" + cls, withIntermediateDirectories: true)
            for f in files { #expect(FileManager.default.createFile(atPath: root + "/\(cls)/\(f)", contents: Data())) }
        }
        return (root, try ImageFolderDataset(directory: root))
    }

    static func write(_ text: String, _ name: String, in root: String) throws -> String {
        let path = root + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Rows in any order, with or without header and index column, quoted or not, are matched by file name.
    @Test(arguments: [
        "path,head0,head1\n/elsewhere/dog/d3.png,5,0\ncat/c1.png,1,2\n/x/dog/d1.png,3,4\nc2.png,2,3\ndog/d2.png,4,5\n",
        "index,path,head0,head1\r\n4,d3.png,5,0\r\n0,c1.png,1,2\r\n1,c2.png,2,3\r\n2,d1.png,3,4\r\n3,d2.png,4,5\r\n",
        "\"imgs/dog/d3.png\",5,0\n\"a,b/c1.png\",1,2\nd1.png,3,4\nc2.png,2,3\nd2.png,4,5\nunrelated.png,9,9\n",
    ])
    func csvRowsAreMatchedByFileName(_ csv: String) throws {
        let (root, dataset) = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = try LabelFile.read(try Self.write(csv, "labels.csv", in: root), matching: dataset)
        #expect(file.heads == 2 && file.count == 5)
        #expect(file.head(0) == [1, 2, 3, 4, 5] && file.head(1) == [2, 3, 4, 5, 0])
        #expect(file.unmatchedRows == (csv.contains("unrelated") ? 1 : 0))
    }

    @Test func csvErrorsNameTheProblem() throws {
        let (root, dataset) = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let missing = try Self.write("c1.png,1\nc2.png,1\nd1.png,1\nd2.png,1\n", "m.csv", in: root)
        #expect { try LabelFile.read(missing, matching: dataset) } throws: { "\($0)".contains("no row for 1 of the 5 images (first: d3.png)") }
        let twice = try Self.write("c1.png,1\ncat/c1.png,2\n", "t.csv", in: root)
        #expect { try LabelFile.read(twice, matching: dataset) } throws: { "\($0)".contains("both name 'c1.png'") }
        let bad = try Self.write("c1.png,1\nc2.png,x\n", "b.csv", in: root)
        #expect { try LabelFile.read(bad, matching: dataset) } throws: { "\($0)".contains("row 2") }
        #expect { try LabelFile.read(missing, matching: nil) } throws: { "\($0)".contains("--data") }
    }

    @Test func npyOfOneOrSeveralHeads() throws {
        let (root, dataset) = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let one = root + "/\(UUID().uuidString).npy"
        try Npy.write([Int64](arrayLiteral: 4, 3, 2, 1, 0), shape: [5], to: one)
        let a = try LabelFile.read(one, matching: dataset)
        #expect(a.heads == 1 && a.head(0) == [4, 3, 2, 1, 0])
        let two = root + "/\(UUID().uuidString).npy"
        try Npy.write([Int32](arrayLiteral: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9), shape: [2, 5], to: two)
        let b = try LabelFile.read(two, matching: nil)
        #expect(b.heads == 2 && b.head(1) == [5, 6, 7, 8, 9])
        let short = root + "/\(UUID().uuidString).npy"
        try Npy.write([Int64](arrayLiteral: 1, 2), shape: [2], to: short)
        #expect { try LabelFile.read(short, matching: dataset) } throws: { "\($0)".contains("2 labels per head for a data set of 5") }
    }
}
