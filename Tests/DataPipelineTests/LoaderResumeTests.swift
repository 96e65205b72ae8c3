import DataPipeline
import Tensors
import Testing

@Suite struct LoaderResumeTests {
    /// Starting an epoch at batch b gives exactly the batches b, b+1, … of the full epoch (what a training run
    /// resumed in the middle of an epoch needs), for inline and threaded loading.
    @Test(arguments: [0, 2])
    func startingAtABatchContinuesTheEpoch(workers: Int) throws {
        let data = SubsetDataset(base: try EmbeddedCIFAR10.train, indices: Array(0..<70))
        let loader = BatchLoader(dataset: data, transform: .cifarNative(size: 32), batchSize: 16, shuffle: true,
                                 seed: 9, workers: workers)
        var full: [Batch] = []
        let it = loader.epoch(3)
        while let b = try it.next() { full.append(b) }
        #expect(full.count == 5)
        let resumed = loader.epoch(3, startingAt: 2)
        var rest: [Batch] = []
        while let b = try resumed.next() { rest.append(b) }
        #expect(rest.count == 3)
        for (a, b) in zip(full[2...], rest) {
            #expect(a.indices == b.indices)
            #expect(a.images.scalars == b.images.scalars)
        }
        let none = loader.epoch(3, startingAt: 5)
        #expect(try none.next() == nil)
    }
}
