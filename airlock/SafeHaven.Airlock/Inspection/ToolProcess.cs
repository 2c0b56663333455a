using System.Diagnostics;

namespace SafeHaven.Airlock.Inspection;

internal sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut);

/// <summary>Runs an external tool (git, clamdscan) with a hard timeout: on expiry the process tree is killed.</summary>
internal static class ToolProcess
{
    public static async Task<ToolResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        Func<Stream, CancellationToken, Task>? writeInput,
        IReadOnlyDictionary<string, string>? environment,
        CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = writeInput is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var kill = deadline.Token.Register(() => KillQuietly(process));
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        if (writeInput is not null)
        {
            try
            {
                await using var input = process.StandardInput.BaseStream;
                await writeInput(input, deadline.Token).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The tool stopped reading (it exited, or was killed on timeout): its exit says which.
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
            }
        }
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            KillQuietly(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            return new ToolResult(-1, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), TimedOut: true);
        }
        var timedOut = deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
        cancellationToken.ThrowIfCancellationRequested();
        return new ToolResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), timedOut);
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }
}
