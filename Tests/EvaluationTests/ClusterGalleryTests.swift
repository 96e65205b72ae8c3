import Evaluation
import Testing

@Suite struct ClusterGalleryTests {
    // Cluster 0: 4 images, classes [1,1,1,2] → purity 0.75; cluster 1: 2 images [0,0] → 1.0;
    // cluster 2: 3 images [0,1,2] → 1/3.
    static let labels = [0, 0, 0, 0, 1, 1, 2, 2, 2]
    static let targets = [1, 1, 1, 2, 0, 0, 0, 1, 2]

    @Test func purityOrderAndMembers() {
        let g = ClusterGallery(labels: Self.labels, targets: Self.targets, classNames: nil, clusters: 10,
                               perCluster: 3, order: .purity)
        #expect(g.rows.map(\.cluster) == [1, 0, 2])
        #expect(g.rows[1].purity == 0.75 && g.rows[1].majorityClass == 1 && g.rows[1].size == 4)
        #expect(g.rows[1].members.count == 3 && Set(g.rows[1].members).isSubset(of: [0, 1, 2, 3]))
    }

    @Test func sizeOrderAndLimit() {
        let g = ClusterGallery(labels: Self.labels, targets: nil, classNames: nil, clusters: 2, perCluster: 9,
                               order: .purity)
        #expect(g.rows.map(\.cluster) == [0, 2])   // no classes: purity falls back to size
        #expect(g.rows[0].purity == nil && g.rows[0].members == [0, 1, 2, 3])
        let r1 = ClusterGallery(labels: Self.labels, targets: nil, classNames: nil, clusters: 3, perCluster: 2,
                                order: .random, seed: 5)
        let r2 = ClusterGallery(labels: Self.labels, targets: nil, classNames: nil, clusters: 3, perCluster: 2,
                                order: .random, seed: 5)
        #expect(r1.rows.map(\.members) == r2.rows.map(\.members))
    }
}
