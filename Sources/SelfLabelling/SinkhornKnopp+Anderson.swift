import Foundation

/// Anderson acceleration (type II; Walker & Ni 2011, "Anderson acceleration for fixed-point iterations") of the
/// Sinkhorn-Knopp cluster potential `u = log r'` (K entries) under the plain update `G`: one fused pass gives
/// `c = (1/N) / (A r)` and `Aᵀ c`, and `G(u) = −log(K · Aᵀ c)` (`SinkhornIteration.updateR`).
///
/// With the residuals `f_i = G(u_i) − u_i` of the last `depth + 1` iterates, the next iterate is
///
///     u⁺ = u + f − (ΔU + ΔF) γ,   γ = argmin ‖f − ΔF γ‖₂  (ΔU, ΔF: differences of successive u_i, f_i)
///
/// with γ from the normal equations, Tikhonov-regularised by 1e-10 of their trace. `G` commutes with adding a
/// constant to `u` (r is defined up to a factor), so the residuals do not see the gauge. The history is
/// cleared at every check (the caller then takes the plain step `G(u)` into it, so the official rule is
/// evaluated on a plain Sinkhorn iteration), at every truncation rebuild (the coordinates move), and when the
/// mixed iterate is not finite.
struct SinkhornAnderson {
    /// Differences kept (m); 5 is the usual choice and measured best-or-equal to 3 and 8 here.
    static let depth = 5
    let k: Int
    private var us: [[Double]] = []
    private var fs: [[Double]] = []

    init(clusters k: Int) { self.k = k }

    /// Forgets the history.
    mutating func reset() {
        us.removeAll(keepingCapacity: true)
        fs.removeAll(keepingCapacity: true)
    }

    /// The next iterate from `u` and `g = G(u)` (first `k` entries; the rest of `u` is left alone). True when
    /// it is the plain step `g` itself (no history yet, or the mixing was not usable).
    @discardableResult
    mutating func next(_ u: inout [Double], plainUpdate g: [Double]) -> Bool {
        var f = [Double](repeating: 0, count: k)
        for j in 0..<k { f[j] = g[j] - u[j] }
        us.append(Array(u[0..<k]))
        fs.append(f)
        if us.count > Self.depth + 1 {
            us.removeFirst()
            fs.removeFirst()
        }
        let m = us.count - 1
        guard m >= 1 else {
            for j in 0..<k { u[j] = g[j] }
            return true
        }
        // ΔF (k x m), the normal equations H γ = ΔFᵀ f.
        var dF = [[Double]](repeating: [Double](repeating: 0, count: k), count: m)
        for i in 0..<m { for j in 0..<k { dF[i][j] = fs[i + 1][j] - fs[i][j] } }
        var h = [Double](repeating: 0, count: m * m), rhs = [Double](repeating: 0, count: m)
        var trace = 0.0
        for a in 0..<m {
            for b in a..<m {
                var s = 0.0
                for j in 0..<k { s += dF[a][j] * dF[b][j] }
                h[a * m + b] = s
                h[b * m + a] = s
            }
            trace += h[a * m + a]
            var s = 0.0
            for j in 0..<k { s += dF[a][j] * f[j] }
            rhs[a] = s
        }
        guard trace > 0, trace.isFinite else {
            return plainStep(&u, g)
        }
        for a in 0..<m { h[a * m + a] += 1e-10 * trace }
        guard let gamma = Self.solve(h, rhs, m) else {
            return plainStep(&u, g)
        }
        var mixed = [Double](repeating: 0, count: k)
        for j in 0..<k {
            var v = u[j] + f[j]
            for i in 0..<m { v -= gamma[i] * ((us[i + 1][j] - us[i][j]) + dF[i][j]) }
            mixed[j] = v
        }
        guard mixed.allSatisfy(\.isFinite) else {
            return plainStep(&u, g)
        }
        for j in 0..<k { u[j] = mixed[j] }
        return false
    }

    /// The plain step `u = G(u)`, forgetting the history (the mixing was not usable).
    private mutating func plainStep(_ u: inout [Double], _ g: [Double]) -> Bool {
        reset()
        for j in 0..<k { u[j] = g[j] }
        return true
    }

    /// Solves the m x m system `h x = b` (row-major) by Gaussian elimination with partial pivoting; nil when
    /// singular.
    static func solve(_ h: [Double], _ b: [Double], _ m: Int) -> [Double]? {
        var a = h, x = b
        for col in 0..<m {
            var pivot = col
            for row in (col + 1)..<max(col + 1, m) where abs(a[row * m + col]) > abs(a[pivot * m + col]) { pivot = row }
            guard a[pivot * m + col] != 0, a[pivot * m + col].isFinite else { return nil }
            if pivot != col {
                for j in 0..<m { a.swapAt(col * m + j, pivot * m + j) }
                x.swapAt(col, pivot)
            }
            for row in (col + 1)..<max(col + 1, m) {
                let factor = a[row * m + col] / a[col * m + col]
                for j in col..<m { a[row * m + j] -= factor * a[col * m + j] }
                x[row] -= factor * x[col]
            }
        }
        for row in stride(from: m - 1, through: 0, by: -1) {
            var s = x[row]
            for j in (row + 1)..<max(row + 1, m) { s -= a[row * m + j] * x[j] }
            x[row] = s / a[row * m + row]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}
