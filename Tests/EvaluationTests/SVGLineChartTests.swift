import Evaluation
import Foundation
import Testing

@Suite struct SVGLineChartTests {
    @Test("ticks are 1, 2 or 5 × 10^k and cover the data", arguments: [
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (3.0, 97.0, [0.0, 20, 40, 60, 80, 100]),
        (0.0, 640.0, [0.0, 200, 400, 600, 800]),
        (-0.3, 0.05, [-0.3, -0.2, -0.1, 0.0, 0.1]),
        (1000.0, 1000.0, [900.0, 950, 1000, 1050, 1100]),
        (0.0, 0.0, [-1.0, -0.5, 0.0, 0.5, 1.0]),
    ])
    func niceTicks(_ lo: Double, _ hi: Double, _ expected: [Double]) {
        let ticks = SVGLineChart.niceTicks(lo, hi)
        #expect(ticks.count == expected.count, "\(ticks)")
        for (a, b) in zip(ticks, expected) { #expect(abs(a - b) < 1e-9, "\(ticks)") }
        #expect(ticks.first! <= lo && ticks.last! >= hi)
    }

    @Test("points are placed by the linear map of the axis ranges onto the plot area, y growing upwards")
    func pointPlacement() throws {
        let chart = SVGLineChart(title: "t", xLabel: "x", yLabel: "y",
                                 series: [.init(name: "a", points: [(0, 0), (5, 0.5), (10, 1)], color: "red")])
        let f = try #require(chart.frame)
        #expect(f.xRange == 0...10 && f.yRange == 0...1)
        #expect(f.px(0) == chart.margin.left && f.px(10) == chart.width - chart.margin.right)
        #expect(f.py(0) == chart.height - chart.margin.bottom && f.py(1) == chart.margin.top)
        // The polyline's points, written independently of Frame.
        let plotW = chart.width - chart.margin.left - chart.margin.right
        let plotH = chart.height - chart.margin.top - chart.margin.bottom
        let expected = [(0.0, 0.0), (5, 0.5), (10, 1)].map {
            String(format: "%.1f,%.1f", chart.margin.left + $0.0 / 10 * plotW, chart.margin.top + plotH - $0.1 * plotH)
        }.joined(separator: " ")
        #expect(chart.render().contains("points=\"\(expected)\""))
    }

    @Test("non-finite points break the line; a chart without finite points says so")
    func nonFinitePoints() {
        let broken = SVGLineChart(title: "t", xLabel: "x", yLabel: "y", series: [
            .init(name: "a", points: [(0, 1), (1, 2), (2, .nan), (3, 1), (4, .infinity), (5, 3), (6, 2)], color: "red"),
        ]).render()
        // (0,1)-(1,2) and (5,3)-(6,2) are lines; (3,1) alone between two gaps is no line.
        #expect(broken.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(!broken.contains("nan") && !broken.contains("inf"))
        let empty = SVGLineChart(title: "t", xLabel: "x", yLabel: "y",
                                 series: [.init(name: "a", points: [(.nan, 1)], color: "red")]).render()
        #expect(empty.contains("no data recorded") && !empty.contains("<polyline"))
    }

    @Test("text is escaped: a title cannot inject markup")
    func escaping() {
        let svg = SVGLineChart(title: "<script>alert('x')</script> & co", xLabel: "a<b", yLabel: "\"q\"",
                               series: [.init(name: "s<1>", points: [(0, 0), (1, 1)], color: "red"),
                                        .init(name: "t", points: [(0, 1), (1, 0)], color: "blue")]).render()
        #expect(!svg.contains("<script>") && !svg.contains("a<b") && !svg.contains("s<1>"))
        #expect(svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"))
        #expect(HTMLText.escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
    }
}
