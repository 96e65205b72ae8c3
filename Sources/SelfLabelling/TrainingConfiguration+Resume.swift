extension TrainingConfiguration {
    /// Settings that change a run's results but may still change on `--resume`: `epochs`, the run's end
    /// (`Trainer.ResumePoint.changeLength` recomputes the label schedule from the current point on).
    public static let lengthOnResume: Set<String> = ["epochs"]

    /// Why the setting `name` cannot change on `--resume`: what of the finished part depends on it (the end of
    /// the one-line refusal `resumed(from:explicit:)` throws).
    public static func resumeRefusal(for name: String) -> String {
        let why: String
        switch name {
        case "batchSize":
            why = "the finished iterations, the checkpoint's position and the label schedule count batches of that size"
        case "lr", "lrdrop", "lrSchedule", "wd", "momentum":
            why = "the finished epochs were trained with it"
        case "arch", "archspec", "hc", "ncl", "cropSize", "channels", "normalization":
            why = "the checkpoint's network and labels were built for it"
        case "nopts", "schedule":
            why = "the label optimisations done so far were placed by it"
        case "lamb", "dtype", "skTol", "skMaxIters", "skAcceleration", "skEmptyClusters", "skWarmStart", "skStorage",
             "plFeatures":
            why = "the labels so far were solved with it"
        case "plMode":
            why = "the label passes so far ran the network in that mode"
        case "augs", "hue":
            why = "the finished epochs were trained on images augmented with it"
        case "paugs":
            why = "the label passes so far saw images augmented with it"
        case "seed":
            why = "the initial weights and labels, shuffles, augmentations and dropout so far were drawn from it, "
                + "and the rest of the run continues those streams"
        case "labels":
            why = "the run was trained on the fixed labels it names"
        case "backend":
            why = "the finished part was computed with those kernels, whose rounding differs"
        default:
            why = "the finished part was trained with it"
        }
        return why + "; --resume may change only --epochs and the settings that do not affect results"
    }
}
