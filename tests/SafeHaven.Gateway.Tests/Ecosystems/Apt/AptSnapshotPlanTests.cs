using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Ecosystems.Apt;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt;

public sealed class AptSnapshotPlanTests
{
    // The shape AptPublisher writes: Acquire-By-Hash before the SHA256 sums, sums only for what it publishes.
    private const string Release = """
        Origin: SafeHaven
        Suite: bookworm
        Date: Tue, 01 Dec 2026 12:00:00 UTC
        Acquire-By-Hash: yes
        SHA256:
         1111111111111111111111111111111111111111111111111111111111111111 1234 main/binary-amd64/Packages
         2222222222222222222222222222222222222222222222222222222222222222 456 main/binary-amd64/Packages.gz
        """;

    [Fact]
    public async Task ReleaseLinksEveryListedIndexAndItsByHashName()
    {
        var links = new List<SnapshotRequest>();
        await foreach (var link in AptSnapshotPlan.ReleaseLinksAsync(new StringReader(Release), "debian/dists/bookworm/", CancellationToken.None))
        {
            links.Add(link);
        }
        Assert.Equal(
        [
            "debian/dists/bookworm/main/binary-amd64/Packages",
            "debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/1111111111111111111111111111111111111111111111111111111111111111",
            "debian/dists/bookworm/main/binary-amd64/Packages.gz",
            "debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/2222222222222222222222222222222222222222222222222222222222222222",
        ], links.Select(l => l.Path));
        Assert.All(links, l => Assert.Equal(SnapshotEntryKind.Document, l.Kind));
    }

    [Fact]
    public async Task WithoutAcquireByHashOnlyTheNamedFiles()
    {
        var links = new List<string>();
        await foreach (var link in AptSnapshotPlan.ReleaseLinksAsync(new StringReader(Release.Replace("Acquire-By-Hash: yes\n", "")), "r/dists/s/", CancellationToken.None))
        {
            links.Add(link.Path);
        }
        Assert.Equal(["r/dists/s/main/binary-amd64/Packages", "r/dists/s/main/binary-amd64/Packages.gz"], links);
    }

    [Fact]
    public async Task PackagesNamesPoolFilesAndRefusesOthers()
    {
        const string packages = "Package: hello\nVersion: 2.10-3\nFilename: pool/main/h/hello/hello_2.10-3_amd64.deb\nSHA256: ab\n\nPackage: libc6\nFilename: pool/main/g/glibc/libc6_2.36-9_amd64.deb\n";
        var files = new List<(string, string)>();
        await foreach (var file in AptSnapshotPlan.PoolFilesAsync(new StringReader(packages), CancellationToken.None))
        {
            files.Add(file);
        }
        Assert.Equal([("hello", "pool/main/h/hello/hello_2.10-3_amd64.deb"), ("libc6", "pool/main/g/glibc/libc6_2.36-9_amd64.deb")], files);

        await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var _ in AptSnapshotPlan.PoolFilesAsync(new StringReader("Package: x\nFilename: ../etc/passwd\n"), CancellationToken.None))
            {
            }
        });
    }
}
