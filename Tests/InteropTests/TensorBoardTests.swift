import Foundation
import Interop
import TestSupport
import Testing

/// Path of a committed fixture in `Fixtures/tensorboard/` (see `tensorboard_make_fixtures.py` there).
private func tensorboardFixture(_ name: String) -> String {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures/tensorboard/\(name)").path
}

/// The events of `tensorboard_make_fixtures.py`'s EVENTS list.
private let referenceEvents: [TensorBoardEvent] = [
    TensorBoardEvent(wallTime: 1700000000.5, fileVersion: "brain.Event:2"),
    TensorBoardEvent(wallTime: 1700000001.25, step: 1, values: [.init(tag: "train/loss", simpleValue: 2.5),
                                                                .init(tag: "train/lr", simpleValue: 0.08)]),
    TensorBoardEvent(wallTime: 1700000002.0, step: 200, values: [.init(tag: "train/loss", simpleValue: -0.001)]),
    TensorBoardEvent(wallTime: 1700000003.75, step: 1 << 40, values: [.init(tag: "labels/nmi_ü", simpleValue: 0.25)]),
    TensorBoardEvent(wallTime: 1700000004.0, step: -3, values: [.init(tag: "x", simpleValue: 1.0)]),
]

/// Writes the reference events with our writer (the version event comes from the writer itself).
private func writeReferenceEvents(in dir: String) throws -> String {
    let w = try TensorBoardEventWriter(directory: dir, wallTime: 1700000000.5, hostname: "selflabel-fixture")
    for e in referenceEvents.dropFirst() {
        try w.addScalars(e.values.map { ($0.tag, $0.simpleValue!) }, step: Int(e.step), wallTime: e.wallTime)
    }
    try w.close()
    return w.path
}

@Suite struct TensorBoardTests {
    @Test func crc32cKnownVectors() {
        // RFC 3720 (iSCSI) appendix B.4 and the common check value.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([]) == 0)
        // Odd lengths exercise the byte-at-a-time tail after the 8-byte slices.
        let long = (0..<1003).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var bitwise: UInt32 = 0xFFFF_FFFF
        for b in long {
            bitwise ^= UInt32(b)
            for _ in 0..<8 { bitwise = (bitwise & 1) != 0 ? (bitwise >> 1) ^ 0x82F6_3B78 : bitwise >> 1 }
        }
        #expect(CRC32C.checksum(long) == ~bitwise)
        // TensorFlow's mask: rotate right by 15, add 0xa282ead8.
        #expect(CRC32C.masked(0) == 0xA282_EAD8)
        #expect(CRC32C.masked(0x0001_0000) == 0xA282_EAD8 &+ 2)
    }

    @Test func encodingMatchesTheTensorBoardPackageByteForByte() throws {
        let reference = try Array(Data(contentsOf: URL(fileURLWithPath: tensorboardFixture("tensorboard_reference_records.tfevents"))))
        let ours = referenceEvents.flatMap { TFRecord.frame($0.encoded()) }
        #expect(ours == reference, "our framing+encoding (\(ours.count) bytes) vs tensorboard's (\(reference.count))")
        #expect(try TensorBoardEventReader.events(in: reference) == referenceEvents)
    }

    @Test func writerFileMatchesTheCommittedFileCheckedByTensorBoard() throws {
        // The committed file is loaded by the real tensorboard package in scripts/reference/check_tensorboard.py.
        let dir = try temporaryFolder("tb")
        let path = try writeReferenceEvents(in: dir)
        #expect(path == dir + "/events.out.tfevents.1700000000.selflabel-fixture")
        let written = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let committed = try? Array(Data(contentsOf: URL(fileURLWithPath:
            tensorboardFixture("events.out.tfevents.1700000000.selflabel-fixture"))))
        #expect(written == committed, "writer output differs from the committed file; new output at \(path)")
        #expect(try TensorBoardEventReader.read(path: path) == referenceEvents)
        // A second writer in the same second does not overwrite the first file.
        let second = try TensorBoardEventWriter(directory: dir, wallTime: 1700000000.9, hostname: "selflabel-fixture")
        #expect(second.path == path + ".1")
        try second.close()
    }

    @Test func readsSummaryWriterFileFromPyTorch() throws {
        let events = try TensorBoardEventReader.read(path: tensorboardFixture("tensorboard_torch_summarywriter.tfevents"))
        #expect(events.first?.fileVersion == "brain.Event:2")
        let scalars = events.flatMap { e in e.values.map { ($0.tag, e.step, $0.simpleValue) } }
        var expected: [(String, Int64, Float?)] = []
        for s in 0..<5 { expected.append(("loss", Int64(s), Float(1.0 / Double(s + 1)))) }
        expected.append(("acc/top1", 10, 0.125))
        #expect(scalars.count == expected.count)
        for (a, b) in zip(scalars, expected) { #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2, "\(a) vs \(b)") }
        #expect(events.allSatisfy { $0.wallTime > 1.6e9 })
    }

    @Test func corruptFilesAreRejectedWithTheOffset() throws {
        let good = referenceEvents.flatMap { TFRecord.frame($0.encoded()) }
        let firstLength = TFRecord.frame(referenceEvents[0].encoded()).count
        var badData = good
        badData[firstLength + 14] ^= 0x01  // a data byte of the second record
        #expect {
            try TensorBoardEventReader.events(in: badData, path: "f")
        } throws: { e in
            if case .dataChecksumMismatch("f", firstLength, _, _)? = e as? TensorBoardError { return true }
            return false
        }
        var badLength = good
        badLength[firstLength] ^= 0x01
        #expect {
            try TensorBoardEventReader.events(in: badLength, path: "f")
        } throws: { e in
            if case .lengthChecksumMismatch("f", firstLength, _, _)? = e as? TensorBoardError { return true }
            return false
        }
        #expect(throws: TensorBoardError.truncatedRecord(path: "f", offset: firstLength)) {
            try TensorBoardEventReader.events(in: Array(good.prefix(firstLength + 20)), path: "f")
        }
        // Valid framing around bytes that are not an Event (field number 0).
        #expect {
            try TensorBoardEventReader.events(in: TFRecord.frame([0x00, 0x01]), path: "f")
        } throws: { e in
            if case .malformedEvent("f", 0, _)? = e as? TensorBoardError { return true }
            return false
        }
    }
}
