using System.Diagnostics;
using SafeHaven.MirrorSync.Bundles;
using Spectre.Console;

namespace SafeHaven.MirrorSync.Cli;

/// <summary>
/// Shows an export's or import's progress: a Spectre.Console progress bar (bytes, speed, time left) on a terminal,
/// plain lines (at most one every two seconds, and one per phase) when the output is redirected.
/// </summary>
internal sealed class ConsoleBundleProgress(TextWriter output, ProgressContext? context) : BundleProgress
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(2);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private ProgressTask? _task;
    private string _phase = "";
    private int _members;
    private int _membersDone;
    private long _bytes;
    private long _bytesDone;
    private TimeSpan _lastLine;

    /// <summary>Runs <paramref name="work"/> with a progress display fitting the output.</summary>
    public static async Task<T> RunAsync<T>(Func<BundleProgress, Task<T>> work)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await work(new ConsoleBundleProgress(Console.Out, null)).ConfigureAwait(false);
        }
        T result = default!;
        await AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx => result = await work(new ConsoleBundleProgress(Console.Out, ctx)).ConfigureAwait(false)).ConfigureAwait(false);
        return result;
    }

    public override void Phase(string description, int members, long bytes)
    {
        if (_task is not null)
        {
            _task.Value = _task.MaxValue;
            _task.StopTask();
        }
        (_phase, _members, _membersDone, _bytes, _bytesDone) = (description, members, 0, bytes, 0);
        if (context is not null)
        {
            _task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, bytes));
            return;
        }
        output.WriteLine($"{description}: {members} files, {Mib(bytes)}");
        _lastLine = _clock.Elapsed;
    }

    public override void Report(long value)
    {
        _bytesDone += value;
        _task?.Increment(value);
        Plain(force: false);
    }

    public override void Member(BundleMember member, bool skipped)
    {
        _membersDone++;
        Plain(force: false);
    }

    public override void Done(string summary)
    {
        if (_task is not null)
        {
            _task.Value = _task.MaxValue;
            _task.StopTask();
        }
        else
        {
            Plain(force: true);
        }
        output.WriteLine(summary);
    }

    private void Plain(bool force)
    {
        if (context is not null || (!force && _clock.Elapsed - _lastLine < PlainInterval))
        {
            return;
        }
        _lastLine = _clock.Elapsed;
        var seconds = Math.Max(0.001, _clock.Elapsed.TotalSeconds);
        output.WriteLine($"  {_membersDone}/{_members} files, {Mib(_bytesDone)} of {Mib(_bytes)} ({(_bytes == 0 ? 100 : 100 * _bytesDone / _bytes)}%), {_bytesDone / 1048576.0 / seconds:0.0} MiB/s ({_phase})");
    }

    private static string Mib(long bytes) => $"{bytes / 1048576.0:0.0} MiB";
}
