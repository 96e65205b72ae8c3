import DataPipeline
import Foundation
import Testing

/// Paths and reference data under Fixtures/ (made by scripts/fixtures/make_datapipeline_fixtures.py).
enum Fixtures {
    static let root: String = Bundle.module.resourcePath! + "/Fixtures"

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func bytes(_ relative: String) throws -> [UInt8] { try FileBytes.read(path(relative)) }

    nonisolated(unsafe) static let manifest: [String: Any] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: path("manifest.json")))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func entry(_ section: String, _ name: String) -> [String: Any] {
        (manifest[section] as! [String: Any])[name] as! [String: Any]
    }

    static func ints(_ section: String, _ key: String) -> [Int] {
        ((manifest[section] as! [String: Any])[key] as! [NSNumber]).map(\.intValue)
    }

    /// A reference image stored as raw HWC RGB bytes.
    static func rgbImage(_ relative: String, width: Int, height: Int) throws -> PixelImage {
        PixelImage(width: width, height: height, channels: 3, pixels: try bytes(relative))
    }
}

/// Largest absolute difference between two images' bytes (an integer bound per byte, unlike the
/// scale-relative `expectClose` of TestSupport), and the number of differing bytes; records an issue
/// naming the first difference and the caller's location when sizes differ or the maximum exceeds `tolerance`.
@discardableResult
func expectImagesClose(_ got: PixelImage, _ want: PixelImage, tolerance: Int, _ what: String,
                       sourceLocation: SourceLocation = #_sourceLocation) -> Int {
    guard got.width == want.width, got.height == want.height, got.channels == want.channels else {
        let message = "\(what): size \(got.width)x\(got.height)x\(got.channels), expected "
            + "\(want.width)x\(want.height)x\(want.channels)"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
        return Int.max
    }
    var worst = 0, at = -1
    for i in 0..<got.pixels.count {
        let d = abs(Int(got.pixels[i]) - Int(want.pixels[i]))
        if d > worst { worst = d; at = i }
    }
    if worst > tolerance {
        let px = at / got.channels
        let message = "\(what): max difference \(worst) > \(tolerance) at x=\(px % got.width) y=\(px / got.width) "
            + "c=\(at % got.channels): got \(got.pixels[at]), expected \(want.pixels[at])"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
    return worst
}
