import Testing
@Test func EvaluationTestsPlaceholder() {}
