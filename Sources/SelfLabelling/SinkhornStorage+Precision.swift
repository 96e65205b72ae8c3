extension SinkhornStorage {
    /// The one rule tying the stored matrix type to the arithmetic: a 16-bit (or any non-f32) stored matrix
    /// exists only in `.f32` precision; `.f64` precision keeps the matrix in float64. Returns nil when the pair
    /// is allowed, otherwise the rule broken, worded with the option names the caller's user knows
    /// (`"<storageOption> <storage> " + rule` reads as one sentence).
    public func conflict(with precision: SinkhornPrecision, storageOption: String = "storage",
                         precisionOption: String = "precision") -> String? {
        precision == .f64 && self != .f32 ? "needs \(precisionOption) f32 (f64 keeps the matrix in float64)" : nil
    }
}
