using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using SafeHaven.Core.Compression;

namespace SafeHaven.Core.Tests.Compression;

/// <summary>The appliance's xz output is judged by the real <c>xz</c> (Debian's xz-utils): integrity test and round trip.</summary>
public sealed class XzTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("safehaven-xz-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(0, 6)]
    [InlineData(1, 6)]
    [InlineData(5_000_000, 6)]
    [InlineData(5_000_000, 0)]
    public async Task Output_passes_xz_test_and_decompresses_to_the_input(int bytes, int preset)
    {
        // Text much like a Packages index (compressible, repeated field names) with random hashes (incompressible),
        // longer than several of the encoder's 64 KiB buffers so the streaming loop turns over many times.
        var input = PackagesLikeText(bytes);
        var compressed = Path.Combine(_directory, "Packages.xz");
        await using (var output = File.Create(compressed))
        {
            await Xz.CompressAsync(new MemoryStream(input), output, preset, CancellationToken.None);
        }

        var (testCode, _, testError) = await RunAsync("xz", "--test", compressed);
        Assert.True(testCode == 0, $"xz --test: {testError}");
        var (infoCode, info, _) = await RunAsync("xz", "--list", "--robot", compressed);
        Assert.Equal(0, infoCode);
        Assert.Contains("CRC64", info, StringComparison.Ordinal);
        var decompressed = Path.Combine(_directory, "Packages");
        var (code, _, error) = await RunAsync("sh", "-c", $"xz -dc '{compressed}' > '{decompressed}'");
        Assert.True(code == 0, error);
        Assert.Equal(SHA256.HashData(input), SHA256.HashData(await File.ReadAllBytesAsync(decompressed, CancellationToken.None)));
        if (bytes > 1_000_000)
        {
            Assert.True(new FileInfo(compressed).Length < bytes / 2, "text compresses");
        }
    }

    [Fact]
    public async Task A_preset_out_of_range_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Xz.CompressAsync(new MemoryStream(), new MemoryStream(), 10, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Xz.CompressAsync(new MemoryStream(), new MemoryStream(), -1, CancellationToken.None));
    }

    private static byte[] PackagesLikeText(int bytes)
    {
        var random = new Random(42);
        var text = new StringBuilder(bytes + 512);
        for (var i = 0; text.Length < bytes; i++)
        {
            text.Append("Package: lib").Append(i).Append("\nVersion: 1.").Append(random.Next(100)).Append("-1\nArchitecture: amd64\n")
                .Append("SHA256: ").Append(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))).Append("\n\n");
        }
        return Encoding.UTF8.GetBytes(text.ToString(0, bytes));
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(CancellationToken.None);
        return (process.ExitCode, await output, await error);
    }
}
