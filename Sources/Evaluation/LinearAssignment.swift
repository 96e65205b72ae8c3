/// The linear sum assignment problem (minimum-cost bipartite matching), solved by the shortest augmenting
/// path method of Jonker & Volgenant as formulated by Crouse (IEEE TAES 2016) — the algorithm behind
/// `scipy.optimize.linear_sum_assignment`. O(n²·m) for an n×m matrix with n ≤ m (O(n³) when square).
///
/// Given costs C (rows × columns, row-major), finds a matching that assigns every row to a distinct column
/// when rows ≤ columns (every column to a distinct row otherwise) minimising the total cost Σ C[i, σ(i)].
public enum LinearAssignment {
    /// Solves the assignment problem.
    /// - Parameters:
    ///   - costs: row-major `rows × columns` costs; finite values or `+infinity` (forbidden pair).
    ///   - maximize: maximise the total instead (costs are negated internally).
    /// - Returns: for each row, its assigned column, or nil for rows left over when rows > columns.
    /// - Throws: `EvaluationError.invalidCost` for NaN or −infinity (+infinity when maximising),
    ///   `EvaluationError.infeasibleAssignment` when only forbidden pairs remain for some row.
    public static func solve(costs: [Double], rows: Int, columns: Int, maximize: Bool = false) throws -> [Int?] {
        precondition(costs.count == rows * columns,
                     "LinearAssignment: \(costs.count) costs for a \(rows)×\(columns) matrix")
        for (k, c) in costs.enumerated() where c.isNaN || c == (maximize ? .infinity : -.infinity) {
            throw EvaluationError.invalidCost(row: k / max(columns, 1), column: k % max(columns, 1), value: c)
        }
        if rows == 0 || columns == 0 { return [Int?](repeating: nil, count: rows) }
        let transpose = columns < rows
        let nr = transpose ? columns : rows, nc = transpose ? rows : columns
        var c = [Double](repeating: 0, count: nr * nc)
        for i in 0..<rows {
            for j in 0..<columns {
                let v = maximize ? -costs[i * columns + j] : costs[i * columns + j]
                if transpose { c[j * nc + i] = v } else { c[i * nc + j] = v }
            }
        }
        let col4row = try solveWide(c, nr: nr, nc: nc)
        if !transpose { return col4row.map { Optional($0) } }
        var result = [Int?](repeating: nil, count: rows)
        for (j, i) in col4row.enumerated() { result[i] = j }
        return result
    }

    /// Core solver for nr ≤ nc; returns the column of every row.
    private static func solveWide(_ cost: [Double], nr: Int, nc: Int) throws -> [Int] {
        var u = [Double](repeating: 0, count: nr), v = [Double](repeating: 0, count: nc)
        var shortest = [Double](repeating: .infinity, count: nc)
        var path = [Int](repeating: -1, count: nc)
        var col4row = [Int](repeating: -1, count: nr), row4col = [Int](repeating: -1, count: nc)
        var visitedRow = [Bool](repeating: false, count: nr), visitedCol = [Bool](repeating: false, count: nc)
        var remaining = [Int](repeating: 0, count: nc)

        for curRow in 0..<nr {
            // Dijkstra-like search for the shortest augmenting path from curRow in reduced costs.
            var minVal = 0.0
            var numRemaining = nc
            for it in 0..<nc { remaining[it] = nc - it - 1 }
            for k in 0..<nr { visitedRow[k] = false }
            for k in 0..<nc { visitedCol[k] = false; shortest[k] = .infinity }
            var sink = -1
            var i = curRow
            while sink == -1 {
                var index = -1
                var lowest = Double.infinity
                visitedRow[i] = true
                let base = i * nc
                for it in 0..<numRemaining {
                    let j = remaining[it]
                    let r = minVal + cost[base + j] - u[i] - v[j]
                    if r < shortest[j] { path[j] = i; shortest[j] = r }
                    if shortest[j] < lowest || (shortest[j] == lowest && row4col[j] == -1) {
                        lowest = shortest[j]
                        index = it
                    }
                }
                minVal = lowest
                if minVal == .infinity || index < 0 { throw EvaluationError.infeasibleAssignment(row: curRow) }
                let j = remaining[index]
                if row4col[j] == -1 { sink = j } else { i = row4col[j] }
                visitedCol[j] = true
                numRemaining -= 1
                remaining[index] = remaining[numRemaining]
            }
            // Update the dual variables.
            u[curRow] += minVal
            for k in 0..<nr where visitedRow[k] && k != curRow { u[k] += minVal - shortest[col4row[k]] }
            for k in 0..<nc where visitedCol[k] { v[k] -= minVal - shortest[k] }
            // Augment along the path back to curRow.
            var j = sink
            while true {
                let r = path[j]
                row4col[j] = r
                let previous = col4row[r]
                col4row[r] = j
                j = previous
                if r == curRow { break }
            }
        }
        return col4row
    }
}
