import Testing
@Test func TensorsTestsPlaceholder() {}
