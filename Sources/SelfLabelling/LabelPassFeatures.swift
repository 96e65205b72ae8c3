import Foundation
import Tensors

/// Element type of the stored pre-head features of a pseudo-label pass (`--pl-features`).
public enum LabelPassFeatureElement: String, Codable, Sendable, CaseIterable {
    /// IEEE float32: the heads' scores are exactly what the network's heads compute.
    case f32
    /// bfloat16 (float32 rounded to nearest even in its top 16 bits): half the memory; the scores, and so some
    /// labels, differ slightly from float32's (docs/PERFORMANCE.md gives the measured agreement).
    case bf16

    /// Bytes per stored value.
    public var byteSize: Int { self == .f32 ? 4 : 2 }
}

/// The pre-head features of a pseudo-label pass, N × D row-major, stored as float32 or bfloat16, in RAM or in a
/// spill file (`SpillFile`). Rows are written as the network produces them (any order) and read back as float32
/// blocks to compute each head's scores.
final class LabelPassFeatures: @unchecked Sendable {
    let samples: Int, dimension: Int
    let element: LabelPassFeatureElement
    /// Where the values live: RAM (`memory`) or the spill file.
    private let memory: UnsafeMutableRawPointer?
    private let spill: SpillFile?
    private var base: UnsafeMutableRawPointer { memory ?? spill!.bytes }
    /// Which rows have been written (an image the loader skipped as corrupt has none).
    private(set) var written: [Bool]

    /// Storage for `samples` × `dimension` values; spilled into a file in `spillFolder` when given.
    init(samples n: Int, dimension d: Int, element: LabelPassFeatureElement, spillFolder: String?) throws {
        samples = n
        dimension = d
        self.element = element
        written = [Bool](repeating: false, count: n)
        let bytes = n * d * element.byteSize
        if let spillFolder {
            spill = try SpillFile(folder: spillFolder, name: "label-pass-features", count: bytes)
            memory = nil
        } else {
            memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
            spill = nil
        }
    }

    deinit { memory?.deallocate() }

    /// Bytes of the stored values.
    var byteCount: Int { samples * dimension * element.byteSize }
    /// Whether the values live in a spill file.
    var isSpilled: Bool { spill != nil }

    /// Stores sample `index`'s features (D float32 values).
    func write(_ index: Int, from values: UnsafePointer<Float>) {
        let d = dimension
        switch element {
        case .f32:
            (base.assumingMemoryBound(to: Float.self) + index * d).update(from: values, count: d)
        case .bf16:
            let out = base.assumingMemoryBound(to: UInt16.self) + index * d
            for j in 0..<d { out[j] = Self.bfloat16(values[j]) }
        }
        written[index] = true
    }

    /// Rows `rows` as float32 into `out` (rows.count × D).
    func read(_ rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let d = dimension, count = rows.count * d
        switch element {
        case .f32:
            out.update(from: base.assumingMemoryBound(to: Float.self) + rows.lowerBound * d, count: count)
        case .bf16:
            let src = base.assumingMemoryBound(to: UInt16.self) + rows.lowerBound * d
            for j in 0..<count { out[j] = Float(bitPattern: UInt32(src[j]) << 16) }
        }
    }

    /// Gives back the memory of spilled rows `rows` (they stay in the file); nothing for RAM storage.
    func release(_ rows: Range<Int>) {
        let rowBytes = dimension * element.byteSize
        spill?.release(offset: rows.lowerBound * rowBytes, length: rows.count * rowBytes)
    }

    /// float32 → bfloat16, rounding to nearest even (NaN stays NaN).
    @inline(__always)
    static func bfloat16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(bits >> 16) | 0x40 }
        return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}
