import Evaluation
import Foundation

extension RunReport {
    /// One label optimisation: where it ran and its per-head records.
    public struct LabelStep {
        public var optimisation: Int
        /// The training iteration it ran at.
        public var iteration: Double
        /// Its `labels` records, one per head.
        public var heads: [[String: Any]]

        /// The mean of `key` over the heads.
        public func mean(_ key: String) -> Double? {
            let values = heads.compactMap { number($0, key) }
            return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }

        /// Head 0's `key`.
        public func head0(_ key: String) -> Double? { heads.first { number($0, "head") == 0 }.flatMap { number($0, key) } }
        /// The largest `key` over the heads.
        public func maximum(_ key: String) -> Double? { heads.compactMap { number($0, key) }.max() }
    }

    /// The label optimisations in the order they ran.
    public var labelSteps: [LabelStep] {
        var steps: [LabelStep] = []
        for r in records("labels") {
            let k = Int(number(r, "optimisation") ?? -1)
            if let last = steps.indices.last, steps[last].optimisation == k {
                steps[last].heads.append(r)
            } else {
                steps.append(LabelStep(optimisation: k, iteration: number(r, "iteration") ?? .nan, heads: [r]))
            }
        }
        return steps
    }

    /// The whole page.
    public func html(pageFolder: String) -> String {
        let name = HTMLText.escape((experiment as NSString).lastPathComponent)
        var page = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>SelfLabel run: \(name)</title>
            <style>body{font-family:sans-serif;margin:24px;max-width:1320px;color:#222}
            .charts{display:flex;flex-wrap:wrap;gap:12px}.warn{background:#fff4e0;border-left:4px solid #e69500;padding:8px 12px;margin:6px 0}
            table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}
            img{max-width:100%;border:1px solid #ddd}</style></head><body>
            <h1>SelfLabel run: \(name)</h1>
            <p>\(HTMLText.escape(statusLine))</p>

            """
        page += "<h2>Warnings</h2>" + (warnings.isEmpty ? "<p>None: every label step converged, no empty clusters.</p>"
            : warnings.map { "<div class=\"warn\">\(HTMLText.escape($0))</div>" }.joined())
        page += "<h2>Training</h2><div class=\"charts\">" + charts.map { $0.render() }.joined(separator: "\n") + "</div>"
        page += gallery(pageFolder: pageFolder)
        page += "<h2>Timings</h2>" + table(timings)
        page += "<h2>Settings</h2>" + table(settings)
        return page + "<p style=\"color:#888\">Written by selflabel report from \(HTMLText.escape(experiment)).</p></body></html>\n"
    }

    /// Where the run stands, from the newest checkpoint.
    public var statusLine: String {
        guard let (path, state) = checkpoint else {
            return "No checkpoint could be read: the run stopped before its first one, or its checkpoints are damaged."
        }
        let p = state.progress, c = state.configuration
        let done = p.epoch >= c.epochs ? "finished" : "stopped (\(state.reason)) at epoch \(p.epoch) batch \(p.batch)"
        return "\(c.arch.rawValue), \(c.hc) head(s) × \(c.ncl) clusters, \(c.epochs) epochs: \(done); "
            + "\(p.iteration) iterations, \(p.labelOptimisations) label optimisations. Newest checkpoint: \(path)."
    }

    /// What a person must not miss.
    public var warnings: [String] {
        var out: [String] = []
        let heads = records("labels")
        let capped = heads.filter { ($0["converged"] as? Bool) == false }
        if !capped.isEmpty {
            let worst = capped.compactMap { number($0, "final_error") }.max() ?? .nan
            let tolerance = checkpoint.map { String($0.state.configuration.skTol) } ?? "the tolerance"
            let steps = Set(capped.compactMap { number($0, "optimisation") }).count
            out.append("\(capped.count) of \(heads.count) head solves (in \(steps) label optimisations) stopped at the "
                + "Sinkhorn-Knopp iteration cap before the stop rule was met (largest error \(String(format: "%.3g", worst)), "
                + "tolerance \(tolerance)): those labels are not the equipartition SeLa asks for. To change: "
                + TrainingSummary.capAdvice + ".")
        }
        let empty = heads.filter { (number($0, "empty_clusters") ?? 0) > 0 }
        if !empty.isEmpty {
            let most = empty.compactMap { number($0, "empty_clusters") }.max() ?? 0
            out.append("\(empty.count) head solves left empty clusters (up to \(Int(most)) in one head).")
        }
        let repaired = heads.filter { (number($0, "repaired_empty_clusters") ?? 0) > 0 }
        if !repaired.isEmpty {
            out.append("\(repaired.count) head solves had empty clusters, filled by splitting the largest cluster "
                + "(--sk-empty-clusters split; refuse stops the run instead).")
        }
        let degenerate = heads.filter { ($0["degenerate_labels"] as? Bool) == true }
        if !degenerate.isEmpty {
            out.append("\(degenerate.count) head solves gave degenerate labels (a cluster far above its share).")
        }
        if unreadableLines > 0 {
            out.append("\(unreadableLines) line(s) of metrics.jsonl are not JSON records (a run killed mid-write leaves one).")
        }
        return out
    }

    /// The charts of the training section.
    public var charts: [SVGLineChart] {
        let train = records("train"), steps = labelSteps
        func points(_ rs: [[String: Any]], _ x: String, _ y: String) -> [(x: Double, y: Double)] {
            rs.compactMap { r in number(r, x).flatMap { xv in number(r, y).map { (xv, $0) } } }
        }
        func stepPoints(_ value: (LabelStep) -> Double?) -> [(x: Double, y: Double)] {
            steps.compactMap { s in value(s).map { (s.iteration, $0) } }
        }
        var iterations = SVGLineChart(title: "Sinkhorn-Knopp iterations per label step", xLabel: "iteration", yLabel: "iterations", series: [
            .init(name: "most (over heads)", points: stepPoints { $0.maximum("sk_iterations") }, color: "#d62728", markers: true),
            .init(name: "mean", points: stepPoints { $0.mean("sk_iterations") }, color: "#1f77b4", markers: true),
        ])
        // A fixed cap is drawn; the automatic one (0) has no line to draw.
        if let cap = checkpoint?.state.configuration.skMaxIters, cap > 0, let first = steps.first, let last = steps.last {
            iterations.series.append(.init(name: "cap", points: [(first.iteration, Double(cap)), (last.iteration, Double(cap))], color: "#999"))
        }
        var knn = SVGLineChart(title: "Held-out kNN top-1", xLabel: "epoch", yLabel: "top-1", series: [
            .init(name: "kNN", points: points(records("knn"), "epoch", "top1"), color: "#2ca02c", markers: true),
        ])
        if let s = summary?["knn_top1"] as? [String: Any], let epochs = checkpoint?.state.configuration.epochs {
            let ends = [(0.0, s["random_init"]), (Double(epochs), s["trained"])]
                .compactMap { x, v in (v as? NSNumber).map { (x, $0.doubleValue) } }
            knn.series.append(.init(name: "random init → trained", points: ends, color: "#9467bd", markers: true))
        }
        return [
            SVGLineChart(title: "Loss", xLabel: "iteration", yLabel: "cross-entropy", series: [
                .init(name: "logged iteration", points: points(train, "iteration", "loss"), color: "#1f77b4"),
                .init(name: "epoch mean so far", points: points(train, "iteration", "loss_mean"), color: "#ff7f0e"),
            ]),
            SVGLineChart(title: "Learning rate", xLabel: "iteration", yLabel: "learning rate", series: [
                .init(name: "lr", points: points(train, "iteration", "lr"), color: "#1f77b4"),
            ]),
            SVGLineChart(title: "Labels changed by each label step", xLabel: "iteration", yLabel: "fraction changed", series: [
                .init(name: "mean over the heads solved", points: stepPoints { $0.mean("changed_fraction") }, color: "#1f77b4", markers: true),
                .init(name: "head 0", points: stepPoints { $0.head0("changed_fraction") }, color: "#ff7f0e", markers: true),
            ]),
            SVGLineChart(title: "NMI with the previous labels", xLabel: "iteration", yLabel: "NMI", series: [
                .init(name: "mean over the heads solved", points: stepPoints { $0.mean("nmi_previous") }, color: "#1f77b4", markers: true),
                .init(name: "head 0", points: stepPoints { $0.head0("nmi_previous") }, color: "#ff7f0e", markers: true),
            ]),
            iterations,
            knn,
        ]
    }

    /// The cluster gallery (`<exp>/clusters/`), linked relative to the page when the page is in the experiment
    /// folder.
    func gallery(pageFolder: String) -> String {
        let folder = (experiment as NSString).appendingPathComponent("clusters")
        let png = (folder as NSString).appendingPathComponent("clusters.png")
        guard FileManager.default.fileExists(atPath: png) else {
            return "<h2>Clusters</h2><p>No cluster gallery in this folder (selflabel visualize draws one).</p>"
        }
        let samePlace = URL(fileURLWithPath: pageFolder).standardized.path == URL(fileURLWithPath: experiment).standardized.path
        let base = samePlace ? "clusters/" : URL(fileURLWithPath: folder).standardized.absoluteString + "/"
        return "<h2>Clusters</h2><p>Head 0: one row per cluster, each thumbnail framed in the colour of its true class "
            + "(<a href=\"\(HTMLText.escape(base))index.html\">page with names</a>).</p>"
            + "<img src=\"\(HTMLText.escape(base))clusters.png\" alt=\"cluster gallery\">"
    }

    /// Rows of the timings table.
    public var timings: [(String, String)] {
        var rows: [(String, String)] = []
        if let seconds = summary.flatMap({ number($0, "seconds") }) { rows.append(("whole run", String(format: "%.0f s", seconds))) }
        let steps = labelSteps
        if !steps.isEmpty {
            let network = steps.compactMap { $0.heads.first.flatMap { number($0, "network_pass_seconds") } }.reduce(0, +)
            let solve = steps.flatMap(\.heads).compactMap { number($0, "seconds") }.reduce(0, +)
            rows.append(("label optimisations", "\(steps.count): network passes \(String(format: "%.1f", network)) s, "
                + "Sinkhorn-Knopp \(String(format: "%.1f", solve)) s"))
        }
        let speeds = records("train").compactMap { number($0, "images_per_second") }
        if !speeds.isEmpty {
            rows.append(("training throughput", String(format: "%.1f images/s (mean of %d logged iterations)",
                                                       speeds.reduce(0, +) / Double(speeds.count), speeds.count)))
        }
        rows.append(("epochs logged", "\(records("epoch").count)"))
        return rows
    }

    /// Rows of the settings table: every field of the stored configuration.
    public var settings: [(String, String)] {
        guard let configuration = checkpoint?.state.configuration else { return [("settings", "no checkpoint to read them from")] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(configuration),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return [] }
        return object.keys.sorted().map { key in (key, object[key] is NSNull ? "none" : "\(object[key]!)") }
    }

    func table(_ rows: [(String, String)]) -> String {
        "<table>" + rows.map { "<tr><th>\(HTMLText.escape($0.0))</th><td>\(HTMLText.escape($0.1))</td></tr>" }.joined() + "</table>"
    }
}
