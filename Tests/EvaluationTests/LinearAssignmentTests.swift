import Evaluation
import Testing

struct AssignmentCase: Decodable, CustomTestStringConvertible, Sendable {
    let name: String
    let rows: Int, columns: Int
    let costs: [Double]
    let maximize: Bool
    let total: Double
    var testDescription: String { name }
}

struct AssignmentFixture: Decodable { let cases: [AssignmentCase] }

let assignmentCases: [AssignmentCase] = (try? loadFixture("assignment.json", as: AssignmentFixture.self).cases) ?? []

/// Brute force over all injective maps of the smaller side (tiny matrices only).
func bruteForceBest(_ costs: [Double], rows: Int, columns: Int, maximize: Bool) -> Double {
    let transpose = rows > columns
    let r = transpose ? columns : rows, c = transpose ? rows : columns
    func cost(_ i: Int, _ j: Int) -> Double { transpose ? costs[j * columns + i] : costs[i * columns + j] }
    var best = maximize ? -Double.infinity : Double.infinity
    var used = [Bool](repeating: false, count: c)
    func go(_ i: Int, _ acc: Double) {
        if i == r { best = maximize ? max(best, acc) : min(best, acc); return }
        for j in 0..<c where !used[j] { used[j] = true; go(i + 1, acc + cost(i, j)); used[j] = false }
    }
    go(0, 0)
    return best
}

@Suite struct LinearAssignmentTests {
    @Test func fixtureLoaded() { #expect(assignmentCases.count == 12) }

    @Test(arguments: assignmentCases)
    func matchesScipy(_ c: AssignmentCase) throws {
        let a = try LinearAssignment.solve(costs: c.costs, rows: c.rows, columns: c.columns, maximize: c.maximize)
        #expect(a.count == c.rows)
        let assigned = a.compactMap { $0 }
        #expect(assigned.count == min(c.rows, c.columns), "\(c.name): every row of the smaller side is matched")
        #expect(Set(assigned).count == assigned.count, "\(c.name): columns used at most once")
        var total = 0.0
        for (i, j) in a.enumerated() { if let j { total += c.costs[i * c.columns + j] } }
        #expect(abs(total - c.total) <= 1e-9 * max(1, abs(c.total)), "\(c.name): total \(total) vs scipy \(c.total)")
    }

    @Test func agreesWithBruteForceOnRandomSmallMatrices() throws {
        var state: UInt64 = 12345
        func next() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 40) / Double(1 << 24) }
        for trial in 0..<60 {
            let rows = 1 + trial % 6, columns = 1 + (trial / 6) % 6
            let costs = (0..<(rows * columns)).map { _ in (next() * 10).rounded() }  // integer costs: many ties
            for maximize in [false, true] {
                let a = try LinearAssignment.solve(costs: costs, rows: rows, columns: columns, maximize: maximize)
                var total = 0.0
                for (i, j) in a.enumerated() { if let j { total += costs[i * columns + j] } }
                let best = bruteForceBest(costs, rows: rows, columns: columns, maximize: maximize)
                #expect(total == best, "trial \(trial) \(rows)x\(columns) maximize \(maximize): \(total) vs \(best)")
            }
        }
    }

    @Test func forbiddenPairsAndErrors() throws {
        let inf = Double.infinity
        // Only the anti-diagonal is allowed.
        let a = try LinearAssignment.solve(costs: [inf, 1, 2, inf], rows: 2, columns: 2)
        #expect(a == [1, 0])
        #expect(throws: EvaluationError.infeasibleAssignment(row: 1)) {
            try LinearAssignment.solve(costs: [1, 2, inf, inf], rows: 2, columns: 2)
        }
        #expect(throws: EvaluationError.invalidCost(row: 1, column: 0, value: -inf)) {
            try LinearAssignment.solve(costs: [1, 2, -inf, 3], rows: 2, columns: 2)
        }
        let empty = try LinearAssignment.solve(costs: [], rows: 3, columns: 0)
        #expect(empty == [nil, nil, nil])
    }
}
