using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using IngestLite.Jobs;
using IngestLite.Progress;

namespace IngestLite.Bench;

/// <summary>The job's report call, measured with BenchmarkDotNet: the registry publish alone, and a stage report end to end.</summary>
[MemoryDiagnoser]
public class ReportCallBenchmarks
{
    private InProcessProgressRegistry _registry = null!;
    private SessionProgress _progress = null!;
    private ProgressSnapshot _snapshot = null!;
    private long _seq;

    [Params(0, 1000)]
    public int Waiting { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _registry = new InProcessProgressRegistry();
        _snapshot = Latency.Snapshot("bench", 1, SessionStatus.Processing);
        _registry.Publish(_snapshot);
        _progress = new SessionProgress(Latency.Snapshot("bench-progress", 1, SessionStatus.Processing), _registry, TimeProvider.System);

        // Readers parked on the session: a publish must not cost more because of them.
        for (var i = 0; i < Waiting; i++)
        {
            var subscription = _registry.Subscribe("bench")!;
            _ = Task.Run(async () =>
            {
                var seen = 0L;
                while (true)
                {
                    var update = await subscription.NextAsync(seen, CancellationToken.None);
                    seen = update!.Snapshot.Seq;
                    await Task.Delay(1000);
                }
            });
        }
    }

    [Benchmark(Description = "registry.Publish")]
    public void Publish() => _registry.Publish(_snapshot with { Seq = ++_seq + 1 });

    [Benchmark(Description = "SessionProgress.SetStage (build snapshot + publish)")]
    public void SetStage() => _progress.SetStage("photos/img-00001.png", "metadata");

    public static IReadOnlyList<Figure> Run(bool quick)
    {
        var job = (quick ? Job.ShortRun : Job.Default).WithToolchain(InProcessEmitToolchain.Instance);
        var config = ManualConfig.CreateMinimumViable().AddJob(job).WithOptions(ConfigOptions.DisableLogFile);
        var summary = BenchmarkRunner.Run<ReportCallBenchmarks>(config);
        return [.. summary.Reports.Where(r => r.ResultStatistics is not null).Select(r => new Figure(
            "report call", $"{r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo}, {r.BenchmarkCase.Parameters.PrintInfo}",
            r.ResultStatistics!.Mean, "ns"))];
    }
}
