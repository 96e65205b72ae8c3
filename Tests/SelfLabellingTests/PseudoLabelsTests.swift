import SelfLabelling
import Tensors
import Testing

@Suite struct PseudoLabelsTests {
    @Test func randomEquipartitionIsExactAndSeeded() {
        var rng = Xoshiro256(seed: 3)
        let l = PseudoLabels.randomEquipartition(clusters: [7, 10], count: 103, using: &rng)
        // 103 = 14·7 + 5: five clusters get 15, two get 14; with K = 10: three get 11, seven get 10.
        #expect(l.clusterSizes(head: 0).sorted() == [14, 14, 15, 15, 15, 15, 15])
        #expect(l.clusterSizes(head: 1).sorted() == [10, 10, 10, 10, 10, 10, 10, 11, 11, 11])
        var again = Xoshiro256(seed: 3)
        #expect(PseudoLabels.randomEquipartition(clusters: [7, 10], count: 103, using: &again) == l)
        // Shuffled, not sorted: consecutive images are not simply 0, 1, 2, …
        #expect(Array(l.head(0).prefix(7)) != [0, 1, 2, 3, 4, 5, 6])
    }

    @Test func replaceCountsChangesAndTargetsGather() {
        var l = PseudoLabels(clusters: [3, 2], count: 4, values: [0, 1, 2, 0, 1, 1, 0, 0])
        let changed = l.replace(head: 0, with: [0, 2, 2, 1])
        #expect(changed == 0.5)
        #expect(l.targets(for: [3, 0]) == [[1, 0], [0, 1]])
    }
}
