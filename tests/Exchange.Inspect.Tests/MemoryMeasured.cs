namespace Exchange.Inspect.Tests;

/// <summary>
/// Tests that measure memory run alone: the managed heap is the process's, and a test allocating
/// in parallel (a generated 24 MiB log) would be counted against the reader.
/// </summary>
[CollectionDefinition(nameof(MemoryMeasured), DisableParallelization = true)]
public sealed class MemoryMeasured;
