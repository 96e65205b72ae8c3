import Foundation
import Testing
import Tensors

/// The JSON fixtures written by `Fixtures/make_fixtures.py`.
enum Fixture {
    /// Parsed top-level object of a fixture file.
    static func load(_ file: String) throws -> [String: Any] {
        guard let url = Bundle.module.url(forResource: "Fixtures/" + file, withExtension: nil)
            ?? Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Fixtures") else {
            throw FixtureError.missing(file)
        }
        let data = try Data(contentsOf: url)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FixtureError.malformed(file)
        }
        return object
    }

    /// A {"shape", "data"} entry as a tensor.
    static func tensor(_ object: [String: Any], _ key: String) throws -> Tensor {
        guard let e = object[key] as? [String: Any], let shape = e["shape"] as? [Int], let data = e["data"] as? [Double] else {
            throw FixtureError.missingKey(key)
        }
        return Tensor(shape: shape, scalars: data.map { Float($0) })
    }
}

enum FixtureError: Error { case missing(String), malformed(String), missingKey(String) }

/// The fixtures' deterministic inputs: a SplitMix64-style hash of (seed, index) mapped to 24-bit uniforms,
/// `low + (high − low)·u` in Double rounded to Float — bit-identical to `hash_uniform` in make_fixtures.py.
func hashUniform(seed: UInt64, count: Int, low: Double = -1, high: Double = 1) -> [Float] {
    let mix = seed &* 0xD1B5_4A32_D192_ED03
    return (0..<count).map { i in
        var z = mix &+ UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z = z ^ (z >> 31)
        let u = Double(z >> 40) * 0x1p-24
        return Float(low + (high - low) * u)
    }
}

/// A hashed tensor (see `hashUniform`).
func hashTensor(_ seed: UInt64, _ shape: [Int], _ low: Double = -1, _ high: Double = 1) -> Tensor {
    Tensor(shape: shape, scalars: hashUniform(seed: seed, count: shape.reduce(1, *), low: low, high: high))
}
