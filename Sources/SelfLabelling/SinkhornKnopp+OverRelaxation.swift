import Foundation

/// The over-relaxation of `SinkhornOptions.overRelaxation`: both scalings move by ω in the log domain
/// (`c ← c^{1−ω} c_SK^ω`, `r ← r^{1−ω} r_SK^ω`). The iteration of every check, and the `r` update just before
/// it, are plain (ω = 1), so the official rule is evaluated on a plain step exactly as in the reference.
struct SinkhornOverRelaxation {
    let enabled: Bool
    /// Cold start: the first estimate waits for three checks (the first error is dominated by the start).
    let cold: Bool
    private(set) var omega = 1.0

    init(enabled: Bool, cold: Bool) {
        self.enabled = enabled
        self.cold = cold
    }

    /// ω of an unchecked pass's `c` update.
    var cOmega: Double { enabled ? omega : 1 }

    /// ω of the `r` update after iteration `nextIteration − 1`: plain into every check.
    func rOmega(nextIteration: Int) -> Double { enabled && nextIteration % 10 != 0 ? omega : 1 }

    /// Updates ω after a check. First estimated from two plain checks (the error falls by ρ per iteration:
    /// ω = 2/(1+√(1−ρ)), Young's optimum for SOR); then, while errors fall, raised from the observed relaxed
    /// rate λ through the SOR relation `(λ + ω − 1)² = λ ω² ρ`; halved towards 1 when an error grows.
    /// Capped at 1.9.
    mutating func update(errors: [Double]) {
        guard enabled else { return }
        omega = Self.next(omega, errors: errors, cold: cold)
    }

    static func next(_ omega: Double, errors: [Double], cold: Bool) -> Double {
        let m = errors.count
        guard m >= 2, errors[m - 2] > 0, errors[m - 1] > 0 else { return omega }
        let lambda = pow(errors[m - 1] / errors[m - 2], 0.1)
        if omega == 1 {
            guard m >= (cold ? 3 : 2), lambda < 1 else { return 1 }
            return min(1.9, 2 / (1 + (1 - min(lambda, 0.9999)).squareRoot()))
        }
        if lambda >= 1 { return 1 + (omega - 1) / 2 }
        let rho = min((lambda + omega - 1) * (lambda + omega - 1) / (lambda * omega * omega), 0.9999)
        return min(1.9, max(omega, 2 / (1 + (1 - rho).squareRoot())))
    }
}
