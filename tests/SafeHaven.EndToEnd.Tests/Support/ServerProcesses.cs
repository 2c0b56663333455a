using System.Diagnostics;

namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>How the tests' peer servers (nginx, tinyproxy) are stopped: the process tree killed, then its temporary prefix removed.</summary>
internal static class ServerProcesses
{
    public static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public static async ValueTask DisposeAsync(Process process, string prefix)
    {
        await StopAsync(process);
        process.Dispose();
        try
        {
            Directory.Delete(prefix, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
