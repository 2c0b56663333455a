namespace SafeHaven.Gateway.Tests.Support;

/// <summary>Memory measurements need the process to themselves: no other test allocates meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
    public const string Name = "memory measurements";
}

/// <summary>What running an action cost the managed heap: its peak growth (sampled), what stays reachable, and all it allocated.</summary>
public sealed record HeapMeasurement(long PeakGrowth, long Retained, long Allocated)
{
    public static async Task<(T Result, HeapMeasurement Cost)> MeasureAsync<T>(Func<T> action)
    {
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                await Task.Delay(2);
            }
        });
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var result = action();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        await sampling.CancelAsync();
        await sampler;
        peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
        var retained = GC.GetTotalMemory(forceFullCollection: true) - baseline;
        GC.KeepAlive(result);
        return (result, new HeapMeasurement(peak - baseline, retained, allocated));
    }

    public override string ToString() =>
        $"peak managed heap growth {PeakGrowth / 1048576.0:0.0} MiB, retained {Retained / 1048576.0:0.0} MiB, allocated in all {Allocated / 1048576.0:0.0} MiB";
}
