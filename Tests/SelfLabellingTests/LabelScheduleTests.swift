import Foundation
import SelfLabelling
import Testing

@Suite struct LabelScheduleTests {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var spacing: String, epochs: Int, samples: Int, nopts: Int
        var resume_epoch: Int
        var times: [Double], resumed: [Double]
        var testDescription: String { "\(spacing) E=\(epochs) N=\(samples) nopts=\(nopts)" }
    }

    static let cases: [Case] = {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/schedule/schedules.json")
        return try! JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
    }()

    @Test(arguments: cases)
    func timesEqualTheOfficialFormulas(_ c: Case) {
        let s = LabelSchedule(spacing: LabelSchedule.Spacing(rawValue: c.spacing)!, epochs: c.epochs,
                              samples: c.samples, count: c.nopts)
        #expect(s.remaining == c.times)
        var r = s
        r.skip(toEpoch: c.resume_epoch, samples: c.samples)
        #expect(r.remaining == c.resumed)
    }

    @Test func firesAtIterationZeroAndOncePerTime() {
        var s = LabelSchedule(spacing: .linear, epochs: 2, samples: 300, count: 3)
        var fired: [Int] = []
        for iteration in 0..<(2 * 300 / 100) where s.takeIfDue(iteration: iteration, batchSize: 100) {
            fired.append(iteration)
        }
        // times 0, 450.015, 900.03 (samples seen) → iterations 0 and 5 (500 ≥ 450.015); 900.03 is past the run.
        #expect(fired == [0, 5])
        #expect(s.remaining.count == 2)
    }
}

@Suite struct LabelScheduleContinuationTests {
    /// `continuing(atIteration:batchSize:)` keeps exactly the times whose firing iteration — the first
    /// iteration j with j · batchSize ≥ t, i.e. ⌈t / batchSize⌉ — is the resume iteration or later, and the
    /// sentinel; checked on the official schedules of the NumPy fixture at several positions and batch sizes.
    @Test(arguments: LabelScheduleTests.cases)
    func keepsTheTimesNotYetDue(_ c: LabelScheduleTests.Case) {
        let s = LabelSchedule(spacing: LabelSchedule.Spacing(rawValue: c.spacing)!, epochs: c.epochs,
                              samples: c.samples, count: c.nopts)
        for batchSize in [1, 7, 64, 256] {
            let batches = (c.samples + batchSize - 1) / batchSize
            for iteration in [0, 1, batches - 1, batches, batches + 1, c.resume_epoch * batches, c.epochs * batches] {
                var expected: [Double] = []
                for t in c.times.dropLast() {
                    var firing = Int((t / Double(batchSize)).rounded(.up))
                    while firing > 0 && Double(firing - 1) * Double(batchSize) >= t { firing -= 1 }
                    while Double(firing) * Double(batchSize) < t { firing += 1 }
                    if firing >= iteration { expected.append(t) }
                }
                expected.append(c.times.last!)
                #expect(s.continuing(atIteration: iteration, batchSize: batchSize).remaining == expected,
                        "iteration \(iteration), batch size \(batchSize)")
            }
        }
        #expect(s.continuing(atIteration: 0, batchSize: 10) == s)
    }
}
