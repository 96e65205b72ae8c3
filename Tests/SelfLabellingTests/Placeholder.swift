import Testing
@Test func SelfLabellingTestsPlaceholder() {}
