import Testing
@Test func DataPipelineTestsPlaceholder() {}
