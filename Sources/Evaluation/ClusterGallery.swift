import DataPipeline
import Foundation
import Interop
import Tensors

/// The picture the SeLa paper shows: one row of thumbnails per cluster, each framed in its true class's
/// colour, written as a PNG contact sheet and a static HTML page (with the thumbnails as files beside it; the
/// page needs no network and references only files written here).
public struct ClusterGallery {
    /// Row order.
    public enum Order: String, Sendable, CaseIterable {
        /// Purest clusters first (needs true classes; falls back to size).
        case purity
        /// Largest first.
        case size
        /// Seeded random order.
        case random
    }

    public struct Row: Sendable {
        public var cluster: Int
        public var size: Int
        /// Fraction of the cluster's images in its most common class (nil without true classes).
        public var purity: Double?
        /// The most common class.
        public var majorityClass: Int?
        /// Dataset indices shown.
        public var members: [Int]
    }

    public var rows: [Row]
    public var classNames: [String]?

    /// Chooses `clusters` non-empty clusters in `order` and up to `perCluster` random members of each.
    public init(labels: [Int], targets: [Int]?, classNames: [String]?, clusters: Int, perCluster: Int,
                order: Order, seed: UInt64 = 0) {
        var members: [Int: [Int]] = [:]
        for (i, c) in labels.enumerated() where c >= 0 { members[c, default: []].append(i) }
        var rng = Xoshiro256(seed: seed, 0x4741_4C4C)
        var rows: [Row] = members.keys.sorted().map { c in
            let m = members[c]!
            var purity: Double?, majority: Int?
            if let targets {
                var counts: [Int: Int] = [:]
                for i in m where targets[i] >= 0 { counts[targets[i], default: 0] += 1 }
                if let best = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) {
                    purity = Double(best.value) / Double(m.count)
                    majority = best.key
                }
            }
            return Row(cluster: c, size: m.count, purity: purity, majorityClass: majority, members: m)
        }
        switch order {
        case .purity where targets != nil:
            rows.sort { ($0.purity ?? 0, $0.size, -$0.cluster) > ($1.purity ?? 0, $1.size, -$1.cluster) }
        case .purity, .size:
            rows.sort { ($0.size, -$0.cluster) > ($1.size, -$1.cluster) }
        case .random:
            let p = rng.permutation(rows.count)
            rows = p.map { rows[$0] }
        }
        rows = Array(rows.prefix(clusters))
        for r in rows.indices {
            let m = rows[r].members
            let pick = m.count <= perCluster ? m : Array(rng.permutation(m.count).prefix(perCluster)).sorted().map { m[$0] }
            rows[r].members = pick
        }
        self.rows = rows
        self.classNames = classNames
    }

    /// Distinct colours for classes (the "tab10" palette, then evenly spaced hues).
    public static func colour(_ k: Int, of n: Int) -> (UInt8, UInt8, UInt8) {
        let tab10: [(UInt8, UInt8, UInt8)] = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                                              (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
                                              (188, 189, 34), (23, 190, 207)]
        if n <= 10 { return tab10[k % 10] }
        let h = Double(k) / Double(n) * 6, x = 1 - Swift.abs(h.truncatingRemainder(dividingBy: 2) - 1)
        let (r, g, b): (Double, Double, Double) = switch Int(h) {
        case 0: (1, x, 0) case 1: (x, 1, 0) case 2: (0, 1, x) case 3: (0, x, 1) case 4: (x, 0, 1) default: (1, 0, x)
        }
        return (UInt8(r * 220), UInt8(g * 220), UInt8(b * 220))
    }

    /// Writes `folder/clusters.png`, `folder/index.html` and `folder/thumbs/*.png`; returns their paths.
    @discardableResult
    public func write(to folder: String, dataset: any Dataset, thumbnail: Int = 64, title: String = "Clusters")
        throws -> (png: String, html: String) {
        let thumbs = (folder as NSString).appendingPathComponent("thumbs")
        try FileManager.default.createDirectory(atPath: thumbs, withIntermediateDirectories: true)
        let targets = dataset.targets
        let nClasses = classNames?.count ?? ((targets?.max() ?? -1) + 1)
        let border = 3, gap = 4, cell = thumbnail + 2 * border
        let perRow = rows.map(\.members.count).max() ?? 0
        let labelWidth = BitmapFont.measure("C0000 100%", scale: 2) + 12
        let legendHeight = nClasses > 0 ? 16 + ((nClasses + 4) / 5) * 22 : 0
        let width = labelWidth + perRow * (cell + gap) + gap
        let height = gap + rows.count * (cell + gap) + legendHeight
        var canvas = [UInt8](repeating: 255, count: width * height * 3)
        let decoder = ImageDecoder()
        var html = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>\(HTMLText.escape(title))</title>
            <style>body{font-family:sans-serif;background:#fff}td{padding:2px}img{display:block}
            .label{font-size:13px;padding-right:10px;white-space:nowrap}</style></head><body>
            <h1>\(HTMLText.escape(title))</h1><p>One row per cluster; each thumbnail is framed in the colour of its true class.</p>
            <img src="clusters.png" alt="contact sheet" style="max-width:100%"><table>

            """
        for (r, row) in rows.enumerated() {
            let y0 = gap + r * (cell + gap)
            let label = "C\(row.cluster)" + (row.purity.map { String(format: " %d%%", Int(($0 * 100).rounded())) } ?? "")
            BitmapFont.draw(label, x: 6, y: y0 + cell / 2 - 7, scale: 2, rgb: (0, 0, 0), into: &canvas,
                            canvasWidth: width, canvasHeight: height)
            let purityText = row.purity.map { String(format: ", purity %.0f%%", $0 * 100) } ?? ""
            let majority = row.majorityClass.map { " (mostly " + HTMLText.escape(className($0)) + ")" } ?? ""
            html += "<tr><td class=\"label\">cluster \(row.cluster)<br>\(row.size) images\(purityText)\(majority)</td>"
            for (j, index) in row.members.enumerated() {
                let image = try dataset.sample(at: index, decoder: decoder).image
                let thumb = Self.resize(image, to: thumbnail)
                let cls = targets.map { $0[index] } ?? -1
                let frame = cls >= 0 ? Self.colour(cls, of: max(nClasses, 1)) : (200, 200, 200)
                let x0 = labelWidth + j * (cell + gap)
                Self.blit(frame: frame, thumb: thumb, size: thumbnail, border: border, x: x0, y: y0,
                          into: &canvas, width: width)
                let name = "c\(row.cluster)_\(j).png"
                try AtomicFile.write(to: (thumbs as NSString).appendingPathComponent(name),
                                     bytes: try PNGEncoder.encode(rgb: thumb, width: thumbnail, height: thumbnail))
                let hex = String(format: "#%02x%02x%02x", frame.0, frame.1, frame.2)
                let tip = cls >= 0 ? HTMLText.escape(className(cls)) : "unknown class"
                html += "<td><img src=\"thumbs/\(name)\" width=\"\(thumbnail)\" height=\"\(thumbnail)\" "
                    + "style=\"border:\(border)px solid \(hex)\" title=\"\(tip) — \(HTMLText.escape(dataset.describeSample(index)))\"></td>"
            }
            html += "</tr>\n"
        }
        html += "</table>"
        if nClasses > 0 {
            let top = gap + rows.count * (cell + gap) + 8
            html += "<h2>Classes</h2><p>"
            for k in 0..<nClasses {
                let c = Self.colour(k, of: nClasses)
                let x = 8 + (k % 5) * ((width - 16) / 5), y = top + (k / 5) * 22
                for dy in 0..<14 { for dx in 0..<14 { Self.put(c, x + dx, y + dy, &canvas, width, height) } }
                BitmapFont.draw(className(k), x: x + 20, y: y, scale: 2, rgb: (0, 0, 0), into: &canvas,
                                canvasWidth: width, canvasHeight: height)
                html += String(format: "<span style=\"display:inline-block;margin-right:16px\"><span style=\"display:inline-block;width:14px;height:14px;background:#%02x%02x%02x;vertical-align:middle\"></span> %@</span>",
                               c.0, c.1, c.2, HTMLText.escape(className(k)))
            }
            html += "</p>"
        }
        html += "</body></html>\n"
        let png = (folder as NSString).appendingPathComponent("clusters.png")
        try AtomicFile.write(to: png, bytes: try PNGEncoder.encode(rgb: canvas, width: width, height: height))
        let page = (folder as NSString).appendingPathComponent("index.html")
        try AtomicFile.write(to: page, text: html)
        return (png, page)
    }

    private func className(_ k: Int) -> String {
        if let names = classNames, k >= 0, k < names.count { return names[k] }
        return "class \(k)"
    }

    static func put(_ c: (UInt8, UInt8, UInt8), _ x: Int, _ y: Int, _ canvas: inout [UInt8], _ w: Int, _ h: Int) {
        guard x >= 0, y >= 0, x < w, y < h else { return }
        let at = (y * w + x) * 3
        canvas[at] = c.0; canvas[at + 1] = c.1; canvas[at + 2] = c.2
    }

    static func blit(frame: (UInt8, UInt8, UInt8), thumb: [UInt8], size: Int, border: Int, x: Int, y: Int,
                     into canvas: inout [UInt8], width: Int) {
        let height = canvas.count / 3 / width
        let cell = size + 2 * border
        for dy in 0..<cell {
            for dx in 0..<cell {
                let inside = dx >= border && dy >= border && dx < border + size && dy < border + size
                if inside {
                    let s = ((dy - border) * size + (dx - border)) * 3
                    put((thumb[s], thumb[s + 1], thumb[s + 2]), x + dx, y + dy, &canvas, width, height)
                } else {
                    put(frame, x + dx, y + dy, &canvas, width, height)
                }
            }
        }
    }

    /// A square RGB thumbnail: the centre square of the image, resampled by averaging the source pixels that
    /// fall in each target pixel (nearest neighbour when enlarging).
    static func resize(_ image: PixelImage, to size: Int) -> [UInt8] {
        let side = min(image.width, image.height)
        let ox = (image.width - side) / 2, oy = (image.height - side) / 2
        var out = [UInt8](repeating: 0, count: size * size * 3)
        for ty in 0..<size {
            let y0 = oy + ty * side / size, y1 = max(y0 + 1, oy + (ty + 1) * side / size)
            for tx in 0..<size {
                let x0 = ox + tx * side / size, x1 = max(x0 + 1, ox + (tx + 1) * side / size)
                for c in 0..<3 {
                    var sum = 0
                    for y in y0..<y1 { for x in x0..<x1 { sum += Int(image[x, y, min(c, image.channels - 1)]) } }
                    out[(ty * size + tx) * 3 + c] = UInt8(sum / ((y1 - y0) * (x1 - x0)))
                }
            }
        }
        return out
    }
}
