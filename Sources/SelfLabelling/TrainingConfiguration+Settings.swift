import DataPipeline
import Foundation
import NeuralNetworks
import Tensors

// Settings by name. Every stored property of `TrainingConfiguration` is a setting; its name is the property's
// name and its command-line option is the name in kebab case (`skMaxIters` is `--sk-max-iters`). A front end
// hands the settings its user gave explicitly to `applying(_:)`, and `resumed(from:explicit:)` compares the
// same names with a stored run, so adding a setting means adding one property here and one option there.

/// A setting whose value is one of a fixed list of names (stored by name in checkpoints).
public protocol SettingChoice: RawRepresentable<String>, CaseIterable, Codable, Sendable {
    /// Other accepted names (an official spelling) and the choice each stands for.
    static var aliases: [String: Self] { get }
}

extension SettingChoice {
    public static var aliases: [String: Self] { [:] }
}

extension SettingChoice {
    /// The allowed names, their phrase and the aliases (by name), for checking a given name.
    static var choiceDescription: (names: [String], phrase: String, aliases: [String: String]) {
        (allCases.map(\.rawValue), choicesPhrase, aliases.mapValues(\.rawValue))
    }

    /// The allowed names, as a phrase: "f32, bf16 or f16".
    public static var choicesPhrase: String {
        let names = allCases.map(\.rawValue)
        return names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}

extension SinkhornPrecision: SettingChoice {}
extension PseudoLabelPassMode: SettingChoice {}
extension LabelPassFeatureElement: SettingChoice {}
extension SinkhornStorage: SettingChoice {}
extension SinkhornAcceleration: SettingChoice {}
extension SinkhornEmptyClusterPolicy: SettingChoice {}
extension Kernels.Name: SettingChoice {}
extension Architecture: SettingChoice {
    public static var aliases: [String: Architecture] { officialAliases }
}
extension LabelSchedule.Spacing: SettingChoice {}
extension LabelHeadSelection: SettingChoice {}
extension TrainingConfiguration.ArchSpec: SettingChoice {}
extension TrainingConfiguration.LRSchedule: SettingChoice {}
extension TrainingConfiguration.Preset: SettingChoice {}
extension Augmentation: SettingChoice {
    /// The names of the official levels (`levelNames`: the reference's `sela_ref.py --augs` spellings).
    public static var aliases: [String: Augmentation] { levelNames }
}

extension TrainingConfiguration {
    /// Settings that may change when a run is resumed: they do not affect the results.
    public static let changeableOnResume: Set<String> = ["workers", "threads", "logIter", "logIntv", "comment", "data",
                                                         "saveScores", "exp", "saveEvery", "knnEvery",
                                                         "plMemory", "syncBn"]

    /// The command-line option of the setting `name`: `"skMaxIters"` → `"--sk-max-iters"`.
    public static func option(for name: String) -> String {
        "--" + name.map { $0.isUppercase ? "-" + $0.lowercased() : String($0) }.joined()
    }

    /// The names of all settings (the stored properties), in declaration order.
    public static var settingNames: [String] {
        Mirror(reflecting: TrainingConfiguration()).children.compactMap(\.label)
    }

    /// The settings a preset governs: every setting some preset gives a value other than the defaults'.
    public static var presetSettings: Set<String> {
        let base = TrainingConfiguration().settingTexts
        var names: Set<String> = []
        for preset in Preset.allCases {
            var c = TrainingConfiguration()
            c.apply(preset)
            for (name, text) in c.settingTexts where base[name] != text { names.insert(name) }
        }
        return names
    }

    /// These settings with `given` (setting name → value: `Int`, `Double`, `UInt64`, `Bool`, `String`, or a
    /// `SettingChoice`/its name) put in; throws naming the option for an unknown setting, a value of the wrong
    /// kind, or a name that is not one of the setting's choices. Call `validate()` afterwards for the rules.
    public func applying(_ given: [String: Any]) throws(TrainingConfigurationError) -> TrainingConfiguration {
        let current = Dictionary(uniqueKeysWithValues: Mirror(reflecting: self).children.map { ($0.label!, $0.value) })
        var object = jsonObject
        for (name, raw) in given {
            let option = Self.option(for: name)
            guard let present = current[name] else {
                throw TrainingConfigurationError(option: option, value: "\(raw)", rule: "is not a training setting")
            }
            var value = raw
            if let number = raw as? Double, !number.isFinite {
                throw TrainingConfigurationError(option: option, value: "\(number)", rule: "must be a finite number")
            }
            if let choice = raw as? any SettingChoice { value = choice.rawValue }
            if let choices = Self.choiceType(of: present) {
                if let text = value as? String, let canonical = choices.aliases[text] { value = canonical }
                guard let text = value as? String, choices.names.contains(text) else {
                    throw TrainingConfigurationError(option: option, value: "\(value)", rule: "must be \(choices.phrase)")
                }
            }
            object[name] = value
        }
        do {
            let data = try JSONSerialization.data(withJSONObject: object)
            return try JSONDecoder().decode(TrainingConfiguration.self, from: data)
        } catch {
            throw TrainingConfigurationError(option: given.keys.sorted().map(Self.option(for:)).joined(separator: ", "),
                                             value: "", rule: "could not be applied: \(error)")
        }
    }

    /// For `--resume`: the stored run's configuration with the explicitly given settings `explicit` (names)
    /// taken from `self` where they may change (`changeableOnResume`, and `epochs`: the caller then checks the
    /// new end with `Trainer.ResumePoint.changeLength`), or an error naming the first one that would alter the
    /// finished part of the stored run, and why (`resumeRefusal(for:)`). `data` is taken from `self` when given (the data may move; the caller checks it is the same by the
    /// checkpoint's `DatasetFingerprint`), else the stored run's data is used; `exp` is always taken from `self`: the folder the checkpoint was found in is where the run continues, whatever folder the stored
    /// settings name (a copied or moved experiment folder just works and never writes into the original).
    public func resumed(from stored: TrainingConfiguration, explicit: Set<String>) throws(TrainingConfigurationError)
        -> TrainingConfiguration {
        let mine = settingTexts, theirs = stored.settingTexts
        var carried: [String: Any] = [:]
        let values = Dictionary(uniqueKeysWithValues: Mirror(reflecting: self).children.map { ($0.label!, $0.value) })
        for name in explicit.sorted() {
            if Self.changeableOnResume.contains(name) || Self.lengthOnResume.contains(name) {
                carried[name] = values[name]
            } else if mine[name] != theirs[name] {
                throw TrainingConfigurationError(option: Self.option(for: name), value: mine[name] ?? "",
                    rule: "differs from the resumed run's \(theirs[name] ?? "(unset)"): " + Self.resumeRefusal(for: name))
            }
        }
        var result = try stored.applying(carried)
        result.data = data ?? stored.data
        result.exp = exp
        return result
    }

    /// Each setting as text, by name (enums by their names).
    var settingTexts: [String: String] { jsonObject.mapValues { "\($0)" } }

    /// The settings as a JSON object (what checkpoints store).
    private var jsonObject: [String: Any] {
        guard let data = try? JSONEncoder().encode(self),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }

    /// The allowed names when `value` is a `SettingChoice`.
    private static func choiceType(of value: Any) -> (names: [String], phrase: String, aliases: [String: String])? {
        if let choice = value as? any SettingChoice { return type(of: choice).choiceDescription }
        // An optional choice that is unset (nil) still names its choices.
        if let optional = type(of: value) as? any OptionalSettingChoice.Type { return optional.choiceType.choiceDescription }
        return nil
    }

    /// Decodes stored settings (a checkpoint's `configuration` object), taking every setting the object lacks
    /// from the defaults: a checkpoint written before a setting existed keeps loading, with the value that
    /// reproduces what that run did (every setting added later defaults to the earlier behaviour).
    /// Settings whose absence from a stored configuration is itself the earlier behaviour (optionals with a
    /// non-nil default for new runs, nil = what runs did before the setting existed): never filled.
    static let absentMeansEarlierBehaviour: Set<String> = ["skAcceleration", "skEmptyClusters", "skWarmStart"]

    public static func decodingFillingDefaults(_ object: [String: Any]) throws -> TrainingConfiguration {
        var filled = TrainingConfiguration().jsonObject
        for name in absentMeansEarlierBehaviour { filled[name] = nil }
        for (name, value) in object { filled[name] = value }
        return try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: filled))
    }
}

/// An optional `SettingChoice` setting (`LabelHeadSelection?`), so its choices are known while it is nil.
protocol OptionalSettingChoice {
    associatedtype Choice: SettingChoice
    static var choiceType: Choice.Type { get }
}

extension Optional: OptionalSettingChoice where Wrapped: SettingChoice {
    static var choiceType: Wrapped.Type { Wrapped.self }
}

/// One stored setting's JSON value (settings are scalars or null), decoded without knowing its type, so stored
/// settings can be completed before they are decoded as a `TrainingConfiguration`.
enum StoredSetting: Decodable {
    case null, bool(Bool), int(Int64), unsigned(UInt64), double(Double), string(String)

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int64.self) { self = .int(v) }
        else if let v = try? c.decode(UInt64.self) { self = .unsigned(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else { self = .string(try c.decode(String.self)) }
    }

    /// The value as `JSONSerialization` takes it.
    var value: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let v): return v
        case .int(let v): return v
        case .unsigned(let v): return v
        case .double(let v): return v
        case .string(let v): return v
        }
    }
}
