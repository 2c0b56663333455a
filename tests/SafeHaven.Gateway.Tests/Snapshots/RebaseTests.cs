using System.Text;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Tests.Snapshots;

public sealed class RebaseTests
{
    /// <summary>A stream that hands out at most a few bytes per read, as a slow disk or network would.</summary>
    private sealed class Trickle(byte[] content, int step) : MemoryStream(content)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, step)], cancellationToken);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(65536)]
    public async Task Every_marker_is_replaced_whatever_the_read_boundaries(int step)
    {
        const string Marker = "http://snapshot.safehaven.invalid/nuget/";
        var text = "x" + Marker + "a" + Marker + Marker + "http://snapshot.safehaven.invalid/nuge" + "/" + Marker.Substring(0, 20) + "tail" + Marker;
        var output = new MemoryStream();
        await Rebase.CopyAsync(new Trickle(Encoding.ASCII.GetBytes(text), step), output,
            Encoding.ASCII.GetBytes(Marker), Encoding.ASCII.GetBytes("https://mirror.example:8443/nuget/@2026-11-30/"), CancellationToken.None);
        Assert.Equal(text.Replace(Marker, "https://mirror.example:8443/nuget/@2026-11-30/", StringComparison.Ordinal), Encoding.ASCII.GetString(output.ToArray()));
    }
}
