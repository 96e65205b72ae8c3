import Foundation

/// The memory of a label optimisation, planned before its network pass: the pre-head features (N × D, float32
/// or bfloat16) are kept instead of every head's logits (heads × N × K float32: 154 GB at ImageNet's 10 × 3000),
/// and the heads are solved one at a time from one head's scores (N × K float32). Each of the two large buffers
/// lives in RAM when it fits the budget, else in a spill file in the experiment folder; bfloat16 features are
/// used when asked, or when float32 ones fit neither in RAM nor on disk.
public struct LabelPassMemoryPlan: Sendable, Equatable, CustomStringConvertible {
    public var samples: Int, dimension: Int, heads: Int, clusters: Int
    /// Element type of the stored features.
    public var element: LabelPassFeatureElement
    /// N × D × element bytes.
    public var featureBytes: Int { samples * dimension * element.byteSize }
    /// One head's scores: N × K float32.
    public var scoreBytes: Int { samples * clusters * 4 }
    /// What the earlier pass stored: every head's scores, heads × N × K float32.
    public var allHeadsBytes: Int { heads * scoreBytes }
    /// The Sinkhorn-Knopp solve of one head (`SinkhornMemoryPlan.totalBytes`).
    public var solverBytes: Int
    /// Per-block buffers of the scores computation: `blockRows` × (D + K) float32, twice.
    public var blockBytes: Int
    /// The RAM the pass may use.
    public var budget: Int
    /// Whether the features, and the head scores, live in spill files.
    public var featuresSpilled: Bool, scoresSpilled: Bool
    /// Free disk in the experiment folder (nil: unknown).
    public var diskFree: Int?

    /// Where things live, without the sizes of the moment (budget, free disk): the element type and what is
    /// spilled. A run prints its plan again only when this changes.
    public var arrangement: String { "\(element.rawValue) \(featuresSpilled) \(scoresSpilled)" }
    /// Bytes in spill files.
    public var spillBytes: Int { (featuresSpilled ? featureBytes : 0) + (scoresSpilled ? scoreBytes : 0) }
    /// Bytes held in RAM (besides the network): what is not spilled, the solver and the block buffers.
    public var memoryBytes: Int {
        (featuresSpilled ? 0 : featureBytes) + (scoresSpilled ? 0 : scoreBytes) + solverBytes + blockBytes
    }

    /// The first arrangement that fits `budget` and the disk: float32 features (unless `element` says bf16)
    /// all in RAM, then the scores spilled, then the features, then both; then the same with bfloat16 features
    /// when no element was asked for. Throws `TrainingError.labelPassTooLarge` with the numbers when none fits.
    public static func make(samples n: Int, dimension d: Int, heads: Int, clusters k: Int,
                            element asked: LabelPassFeatureElement?, solverBytes: Int, blockRows: Int,
                            budget: Int, diskFree: Int?) throws -> LabelPassMemoryPlan {
        var plan = LabelPassMemoryPlan(samples: n, dimension: d, heads: heads, clusters: k, element: asked ?? .f32,
                                       solverBytes: solverBytes, blockBytes: 2 * blockRows * (d + k) * 4,
                                       budget: budget, featuresSpilled: false, scoresSpilled: false,
                                       diskFree: diskFree)
        for element in asked.map({ [$0] }) ?? [.f32, .bf16] {
            plan.element = element
            for (features, scores) in [(false, false), (false, true), (true, false), (true, true)] {
                plan.featuresSpilled = features
                plan.scoresSpilled = scores
                if plan.memoryBytes <= budget && plan.spillBytes <= (diskFree ?? Int.max) { return plan }
            }
        }
        let hint = plan.solverBytes + plan.blockBytes > budget
            ? "; the Sinkhorn-Knopp solve alone is over the budget (--dtype f32 lets the truncated method keep far less)"
            : ""
        throw TrainingError.labelPassTooLarge(plan: plan.description + hint)
    }

    /// One line: each buffer's size and place, the budget and the free disk.
    public var description: String {
        func gb(_ b: Int) -> String {
            b >= 1_000_000_000 ? String(format: "%.2f GB", Double(b) / 1e9) : String(format: "%.1f MB", Double(b) / 1e6)
        }
        let f = "features \(samples) × \(dimension) \(element.rawValue) \(gb(featureBytes)) "
            + (featuresSpilled ? "(spill file)" : "(RAM)")
        let s = "one head's scores \(samples) × \(clusters) f32 \(gb(scoreBytes)) " + (scoresSpilled ? "(spill file)" : "(RAM)")
        return "\(f), \(s), Sinkhorn-Knopp \(gb(solverBytes)), blocks \(gb(blockBytes)): \(gb(memoryBytes)) in RAM of a "
            + "\(gb(budget)) budget, \(gb(spillBytes)) on disk of \(diskFree.map(gb) ?? "unknown") free "
            + "(every head's scores at once: \(gb(allHeadsBytes)))"
    }
}
