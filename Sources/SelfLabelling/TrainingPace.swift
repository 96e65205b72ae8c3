import Foundation

/// Clocks of one call of `Trainer.run()`: images per second in the current epoch, and the ETA.
struct Pace {
    let totalIterations: Int
    let start = Date()
    var epochStart = Date()
    var epochImages = 0
    var stepsThisCall = 0

    init(totalIterations: Int) { self.totalIterations = totalIterations }

    mutating func beginEpoch() {
        epochStart = Date()
        epochImages = 0
    }

    mutating func recordStep(images: Int) {
        epochImages += images
        stepsThisCall += 1
    }

    var epochImagesPerSecond: Double { Double(epochImages) / max(Date().timeIntervalSince(epochStart), 1e-9) }
    var secondsThisCall: Double { Date().timeIntervalSince(start) }

    /// The report of the step just recorded (`progress` already counts it).
    func report(_ progress: TrainingProgress, loss: Double, lr: Double, epochs: Int, logged: Bool) -> IterationReport {
        let eta = Double(totalIterations - progress.iteration) * secondsThisCall / Double(max(stepsThisCall, 1))
        return IterationReport(epoch: progress.epoch, epochs: epochs, iteration: progress.iteration - 1,
                               totalIterations: totalIterations, loss: loss, epochMeanLoss: progress.epochMeanLoss,
                               learningRate: lr, imagesPerSecond: epochImagesPerSecond, secondsLeft: eta,
                               isLogged: logged)
    }
}
