import Testing
@Test func InteropTestsPlaceholder() {}
