namespace Exchange.LoadTest;

internal sealed record LoadOptions(int Institutes, int Findings, int Concurrency, double Rate, string Database, int Warmup);
