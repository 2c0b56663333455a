using System.Diagnostics;

namespace SafeHaven.Tests.Support;

/// <summary>
/// A small tmpfs the test mounts (tests run as root) and unmounts on dispose: a real disk that fills up. One file,
/// compiled into each test project that needs it (test projects do not reference each other); a project may implement
/// <see cref="BeforeUnmount"/> to let go of what it holds open on the mount.
/// </summary>
internal sealed partial class TmpfsMount : IDisposable
{
    private static readonly Lazy<string?> WhyNot = new(() =>
    {
        using var probe = TryCreate("64k", out var why);
        return probe is null ? why : null;
    });

    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    /// <summary>Null when this machine lets the tests mount a tmpfs, else why not.</summary>
    public static string? Unavailable => OperatingSystem.IsLinux() ? WhyNot.Value : "not Linux";

    public static TmpfsMount? TryCreate(string size, out string why)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "safehaven-tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            why = $"mount -t tmpfs exited {code}: {output.Trim()}";
            return null;
        }
        why = "";
        return new TmpfsMount(path);
    }

    /// <summary>Writes zeros to <paramref name="file"/> until the file system reports it is full.</summary>
    public static void Fill(string file)
    {
        var block = new byte[4096];
        using var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
        try
        {
            while (true)
            {
                stream.Write(block);
            }
        }
        catch (IOException)
        {
            // ENOSPC: the disk is full. Top up the last partial block, byte by byte.
            try
            {
                while (true)
                {
                    stream.Write(block, 0, 1);
                }
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Lets go of files the test project still holds open on the mount (its pooled connections).</summary>
    static partial void BeforeUnmount();

    public void Dispose()
    {
        BeforeUnmount();
        if (Run("umount", Path).Code != 0)
        {
            Run("umount", "-l", Path);
        }
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (int Code, string Output) Run(string file, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            var output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}

/// <summary>A fact that needs <see cref="TmpfsMount"/>: skipped, with the reason, where mounting is not permitted.</summary>
internal sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (TmpfsMount.Unavailable is { } why)
        {
            Skip = $"Cannot mount a tmpfs for the full-disk test ({why}); run the tests as root.";
        }
    }
}

/// <summary>
/// Tests that fill a disk in process run alone: other tests clear the process's SQLite pools
/// (<c>SqliteConnection.ClearAllPools</c>) at any moment, and closing a database's connections checkpoints its WAL into
/// the database file, taking the space a full-disk test has just freed for the write it is about to check.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FullDiskCollection
{
    public const string Name = "full disk";
}
