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
