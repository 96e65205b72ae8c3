import Foundation

/// A line chart as an inline SVG element: one or more series of (x, y) points on shared linear axes with
/// "nice" ticks (1, 2 or 5 × 10^k), a title, axis labels and a legend. Needs no script, font or network at view
/// time. Non-finite points are left out and break their line; a series of one point is drawn as a dot.
public struct SVGLineChart: Sendable {
    /// One line of the chart.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// A CSS colour.
        public var color: String
        /// Draw a dot at every point as well (for sparse series such as one value per label optimisation).
        public var markers: Bool

        public init(name: String, points: [(x: Double, y: Double)], color: String, markers: Bool = false) {
            self.name = name
            self.points = points
            self.color = color
            self.markers = markers
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 620.0
    public var height = 260.0
    /// Margins around the plot area (left holds the y tick labels, bottom the x tick labels and label).
    public var margin = (left: 62.0, right: 14.0, top: 30.0, bottom: 44.0)

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// Data-to-pixel mapping of a chart: the axis ranges (widened to the outer ticks) and the plot area.
    public struct Frame: Sendable, Equatable {
        public var xRange: ClosedRange<Double>
        public var yRange: ClosedRange<Double>
        public var xTicks: [Double]
        public var yTicks: [Double]
        public var left: Double, top: Double, plotWidth: Double, plotHeight: Double

        /// Pixel column of data value `x`.
        public func px(_ x: Double) -> Double {
            left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plotWidth
        }

        /// Pixel row of data value `y` (SVG rows grow downwards).
        public func py(_ y: Double) -> Double {
            top + plotHeight - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * plotHeight
        }
    }

    /// The frame, or nil when no series has a finite point.
    public var frame: Frame? {
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        guard let first = finite.first else { return nil }
        var (x0, x1, y0, y1) = (first.x, first.x, first.y, first.y)
        for p in finite {
            x0 = min(x0, p.x); x1 = max(x1, p.x)
            y0 = min(y0, p.y); y1 = max(y1, p.y)
        }
        let xTicks = Self.niceTicks(x0, x1), yTicks = Self.niceTicks(y0, y1)
        return Frame(xRange: xTicks.first!...xTicks.last!, yRange: yTicks.first!...yTicks.last!,
                     xTicks: xTicks, yTicks: yTicks, left: margin.left, top: margin.top,
                     plotWidth: width - margin.left - margin.right, plotHeight: height - margin.top - margin.bottom)
    }

    /// Ticks at a "nice" step (1, 2 or 5 × 10^k) covering [lo, hi] with about five intervals; the first tick is
    /// ≤ lo and the last ≥ hi. A single value gets a range around it.
    public static func niceTicks(_ lo: Double, _ hi: Double, target: Int = 5) -> [Double] {
        var (lo, hi) = (lo, hi)
        if hi - lo <= Swift.max(abs(lo), abs(hi)) * 1e-12 {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        let raw = (hi - lo) / Double(target)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * 0.999_999 } ?? 10 * magnitude
        let first = floor(lo / step + 1e-9), last = ceil(hi / step - 1e-9)
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    /// The `<svg>` element.
    public func render() -> String {
        var s = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">",
                       width, height, width, height)
        s += "<title>\(HTMLText.escape(title))</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
        s += String(format: "<text x=\"%.1f\" y=\"18\" font-size=\"13\" font-weight=\"bold\">%@</text>", margin.left, HTMLText.escape(title))
        guard let f = frame else {
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" fill=\"#888\">no data recorded</text></svg>", margin.left, height / 2)
            return s
        }
        s += axes(f)
        for series in self.series { s += lines(series, f) }
        s += legend()
        return s + "</svg>"
    }

    private func axes(_ f: Frame) -> String {
        var s = String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>",
                       f.left, f.top, f.plotWidth, f.plotHeight)
        for t in f.xTicks {
            let x = f.px(t)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", x, f.top, x, f.top + f.plotHeight)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", x, f.top + f.plotHeight + 14, Self.label(t, ticks: f.xTicks))
        }
        for t in f.yTicks {
            let y = f.py(t)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", f.left, y, f.left + f.plotWidth, y)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", f.left - 4, y + 4, Self.label(t, ticks: f.yTicks))
        }
        s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>",
                    f.left + f.plotWidth / 2, height - 8, HTMLText.escape(xLabel))
        s += String(format: "<text transform=\"translate(12 %.1f) rotate(-90)\" text-anchor=\"middle\">%@</text>",
                    f.top + f.plotHeight / 2, HTMLText.escape(yLabel))
        return s
    }

    /// The runs of consecutive finite points of `series`, as polylines (and dots).
    private func lines(_ series: Series, _ f: Frame) -> String {
        var s = "", run: [String] = []
        func flush() {
            if run.count > 1 {
                s += "<polyline fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"1.5\" points=\"\(run.joined(separator: " "))\"/>"
            }
            run = []
        }
        for p in series.points {
            guard p.x.isFinite, p.y.isFinite else { flush(); continue }
            let (x, y) = (f.px(p.x), f.py(p.y))
            run.append(String(format: "%.1f,%.1f", x, y))
            if series.markers || series.points.count == 1 {
                s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%@\"/>", x, y, series.color)
            }
        }
        flush()
        return s
    }

    private func legend() -> String {
        let drawn = series.filter { $0.points.contains { $0.x.isFinite && $0.y.isFinite } }
        guard drawn.count > 1 else { return "" }
        var s = "", x = width - margin.right
        for series in drawn.reversed() {
            let text = HTMLText.escape(series.name)
            x -= Double(series.name.count) * 6.2 + 26
            s += String(format: "<rect x=\"%.1f\" y=\"10\" width=\"12\" height=\"4\" fill=\"%@\"/>", x, series.color)
            s += String(format: "<text x=\"%.1f\" y=\"16\">%@</text>", x + 16, text)
        }
        return s
    }

    /// A tick label with as many decimals as the tick step needs.
    static func label(_ v: Double, ticks: [Double]) -> String {
        let step = ticks.count > 1 ? abs(ticks[1] - ticks[0]) : 1
        if step >= 1, abs(v) < 1e15 { return String(format: "%.0f", v) }
        if step < 1e-4 { return String(format: "%.2g", v) }
        let decimals = Int(ceil(-log10(step) - 1e-9))
        return String(format: "%.\(decimals)f", v)
    }
}
