import Foundation
import Interop

/// The embedded demo's result: the held-out scores of the trained network and, when the run started from
/// scratch, of its random initialisation.
public struct HeldOutComparison: Sendable, Equatable {
    public var trained: HeldOutScores
    /// Nil for a resumed run (the random initialisation was measured by the run that started it).
    public var randomInitialisation: HeldOutScores?
    /// Seconds of the whole run, evaluations included.
    public var seconds: Double
}
