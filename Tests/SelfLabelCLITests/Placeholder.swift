import Testing
@Test func SelfLabelCLITestsPlaceholder() {}
