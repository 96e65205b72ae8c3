/// The official SeLa learning-rate schedules, as a function of the (0-based) epoch. The base rate is a Double
/// (as Python's float in the reference); the product is rounded to Float once, as PyTorch does.
public enum LearningRateSchedule: Equatable, Sendable {
    /// ImageNet (`main.py`): `base · 0.1^(epoch / dropEvery)` (integer division) for epochs below 350, and
    /// `base · 1e-3` from epoch 350 on.
    case imagenet(base: Double, dropEvery: Int)
    /// CIFAR (`cifar.py` `adjust_learning_rate`) for a run of `epochs` epochs: constant `base` until 40% of the
    /// run, then `base · 0.1^((epoch − 0.4·E) / (0.2·E))` — i.e. drops at 120/160 for E = 200, 240/320 for 400,
    /// 480/640 for 800, 960/1280 for 1600. The official script only defines E ∈ {200, 400, 800, 1600} and keeps
    /// `base` for any other E; so does this.
    case cifar(base: Double, epochs: Int)
    /// `retrain_with_rotnet.py`: `base · 0.1^(epoch / dropEvery)` (integer division) for epochs below 80, and
    /// `base · 1e-3` from epoch 80 on (main.py's schedule with the final drop at 80 instead of 350).
    case retrain(base: Double, dropEvery: Int)
    /// A constant rate.
    case constant(Double)

    /// The learning rate for `epoch`.
    public func rate(epoch: Int) -> Float {
        switch self {
        case .imagenet(let base, let dropEvery):
            return stepped(base: base, dropEvery: dropEvery, finalFrom: 350, epoch: epoch)
        case .retrain(let base, let dropEvery):
            return stepped(base: base, dropEvery: dropEvery, finalFrom: 80, epoch: epoch)
        case .cifar(let base, let epochs):
            let starts: [Int: (Int, Int)] = [200: (80, 40), 400: (160, 80), 800: (320, 160), 1600: (640, 320)]
            guard let (start, step) = starts[epochs], epoch >= start else { return Float(base) }
            return Float(base * power(0.1, (epoch - start) / step))
        case .constant(let r):
            return Float(r)
        }
    }

    /// `base · 0.1^(epoch / dropEvery)` below `finalFrom`, `base · 1e-3` from there on.
    private func stepped(base: Double, dropEvery: Int, finalFrom: Int, epoch: Int) -> Float {
        precondition(dropEvery > 0, "LearningRateSchedule: dropEvery \(dropEvery) must be > 0")
        if epoch >= finalFrom { return Float(base * 1e-3) }
        return Float(base * power(0.1, epoch / dropEvery))
    }

    /// `x^n` in Double (as Python's `0.1 ** n`; the product with the base is rounded to Float once).
    private func power(_ x: Double, _ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<n { r *= x }
        return r
    }
}
