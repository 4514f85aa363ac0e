using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Exchange.Benchmarks.PolicyBenchmarks).Assembly).Run(args);
