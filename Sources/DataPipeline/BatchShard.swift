/// One rank's share of every mini-batch in data-parallel training (`mpirun -np R selflabel train`): the global
/// batch `positions` `lo ..< hi` of the epoch's order split into R contiguous parts, rank r taking
/// `lo + ⌊n·r/R⌋ ..< lo + ⌊n·(r+1)/R⌋` (n = hi − lo). Every rank draws the same permutation and the same
/// per-sample augmentation generators (`BatchLoader.sampleGenerator(epoch:index:)`), so the R shares of a
/// batch are exactly the images a single process puts in that batch, in the same order.
public struct BatchShard: Sendable, Equatable {
    /// This rank, 0 ..< ranks.
    public var rank: Int
    /// The number of ranks.
    public var ranks: Int

    /// A share; `0 <= rank < ranks`.
    public init(rank: Int, ranks: Int) {
        precondition(ranks >= 1 && rank >= 0 && rank < ranks, "BatchShard: rank \(rank) of \(ranks)")
        self.rank = rank
        self.ranks = ranks
    }

    /// This rank's part of the global positions `batch`.
    public func positions(_ batch: Range<Int>) -> Range<Int> {
        let n = batch.count
        return (batch.lowerBound + n * rank / ranks)..<(batch.lowerBound + n * (rank + 1) / ranks)
    }
}
