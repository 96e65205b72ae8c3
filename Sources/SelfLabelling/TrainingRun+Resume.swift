import Foundation

extension TrainingRun {
    /// The checkpoint `--resume` continues from: `resumeFrom` (`Trainer.ResumePoint.named`) or the newest one in
    /// `configuration.exp`. With `resumeFrom` and no explicit `--exp`, `configuration.exp` becomes the folder the
    /// checkpoint belongs to. Continuing from a checkpoint of that same folder returns it as `superseding` too:
    /// once the run is known good the caller moves the regular checkpoints after it aside
    /// (`supersedeLaterCheckpoints`). Continuing into another folder claims it as for a fresh run (refused
    /// when it holds a run, unless `overwrite`).
    func locateResumePoint(_ configuration: inout TrainingConfiguration) throws
        -> (point: Trainer.ResumePoint, superseding: Trainer.ResumePoint?) {
        guard let source = resumeFrom else { return (try Trainer.ResumePoint.latest(experiment: configuration.exp), nil) }
        let (point, folder) = try Trainer.ResumePoint.named(source)
        if !explicitSettings.contains("exp") {
            guard let folder else {
                throw TrainingError.resumeSource(path: source, reason: "lies outside an experiment's checkpoints/ "
                    + "folder: name the folder to continue in with --exp")
            }
            configuration.exp = folder
        }
        if let folder, Self.sameFolder(folder, configuration.exp) {
            if overwrite {
                throw TrainingError.resumeSource(path: source, reason: "continues in its own folder \(folder): "
                    + "--overwrite applies only when continuing into another --exp that holds a run")
            }
            return (point, point)
        }
        if let aside = try ExperimentFolder.claimForFreshRun(configuration.exp, overwrite: overwrite) {
            log("--overwrite: moved the earlier run in \(configuration.exp) to \(aside)")
        }
        return (point, nil)
    }

    /// Moves the regular checkpoints of `experiment` after `point` aside (`CheckpointFolder.supersede`), so the
    /// newest one is always the continued run's.
    func supersedeLaterCheckpoints(_ point: Trainer.ResumePoint, in experiment: String) throws {
        if let aside = try CheckpointFolder(experiment: experiment).supersede(after: point.checkpoint.state.progress) {
            log("moved the regular checkpoints after \(point.path) to \(aside): this run continues from it")
        }
    }

    /// Reports a changed `--epochs` on `--resume`: the new end, the label optimisations still to come, and when
    /// the learning-rate schedule of the new length differs from the one the finished epochs followed (the
    /// CIFAR schedule depends on the length; the remaining epochs follow the new one, as cifar.py's resume does).
    func noteLengthChange(_ point: Trainer.ResumePoint, to c: TrainingConfiguration, samples: Int) {
        let stored = point.checkpoint.state.configuration, done = point.checkpoint.state.progress.epoch
        let times = point.checkpoint.state.progress.schedule.epochs(samples: samples).map { String(format: "%.2f", $0) }
        log("--epochs \(c.epochs): the run now ends after epoch \(c.epochs - 1) (was \(stored.epochs - 1)); "
            + "label optimisations still to come at epochs [\(times.joined(separator: ", "))]")
        if let note = Self.learningRateNote(stored: stored, new: c, finishedEpochs: done) { log(note) }
    }

    /// The note for a changed length whose learning-rate schedule differs from the stored run's over the
    /// `finishedEpochs` epochs trained (nil when it does not: main.py's schedule never depends on the length).
    public static func learningRateNote(stored: TrainingConfiguration, new c: TrainingConfiguration,
                                        finishedEpochs done: Int) -> String? {
        let old = stored.learningRateSchedule, new = c.learningRateSchedule
        guard let e = (0..<done).first(where: { old.rate(epoch: $0) != new.rate(epoch: $0) }) else { return nil }
        return "note: over the finished epochs the learning-rate schedule of \(c.epochs) epochs differs from the "
            + "\(stored.epochs)-epoch one they followed (epoch \(e): \(new.rate(epoch: e)) instead of "
            + "\(old.rate(epoch: e))); the remaining epochs follow the \(c.epochs)-epoch schedule"
    }

    /// Whether two paths name the same folder (after resolving `.`, `..` and symbolic links).
    static func sameFolder(_ a: String, _ b: String) -> Bool {
        func canonical(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        return canonical(a) == canonical(b)
    }
}

extension CheckpointFolder {
    /// Moves the regular checkpoints that resume after `progress` into a new `superseded-<n>/` subfolder
    /// (returned; nil when there are none): a run continued from an earlier checkpoint must not leave later
    /// ones behind, which `latest` would pick and `prune` would keep instead of the new ones. Nothing is deleted.
    public func supersede(after progress: TrainingProgress) throws -> String? {
        let position = (regularPath(epoch: progress.epoch, batch: progress.batch) as NSString).lastPathComponent
        let later = regular().filter { ($0 as NSString).lastPathComponent > position }
        guard !later.isEmpty else { return nil }
        var n = 1
        while FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("superseded-\(n)")) { n += 1 }
        let aside = (path as NSString).appendingPathComponent("superseded-\(n)")
        do {
            try FileManager.default.createDirectory(atPath: aside, withIntermediateDirectories: false)
            for file in later {
                try FileManager.default.moveItem(atPath: file, toPath: (aside as NSString)
                    .appendingPathComponent((file as NSString).lastPathComponent))
            }
        } catch {
            throw TrainingError.experimentFolder(path: path, reason: "could not move the checkpoints after the resumed "
                + "one aside to \(aside): \(error.localizedDescription)")
        }
        return aside
    }
}
