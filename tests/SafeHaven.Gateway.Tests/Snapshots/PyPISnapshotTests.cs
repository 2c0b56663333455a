using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Snapshots;

using SafeHaven.Tests.Support;

namespace SafeHaven.Gateway.Tests.Snapshots;

/// <summary>
/// Snapshots of a Tier 3 PyPI mirror. The upstream imitates a static PEP 503 index (pip2pi, dumb-pypi, a folder of
/// files behind a plain web server) served by Python's http.server: HTML pages only, each link with its
/// <c>#sha256=</c>, the real wheels Debian ships (pip, setuptools, wheel). It leaves out on purpose the PEP 691 JSON
/// API, upload times, sizes, PEP 658 metadata files and ETags, the least any real upstream gives.
/// </summary>
public sealed class PyPISnapshotTests : IAsyncLifetime
{
    private const string PipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
    private const string Pip = "pip-23.0.1-py3-none-any.whl";
    private const string Setuptools = "setuptools-66.1.1-py3-none-any.whl";
    private const string Wheel = "wheel-0.38.4-py3-none-any.whl";

    private readonly string _upstreamRoot = Directory.CreateTempSubdirectory("safehaven-snapshot-upstream-").FullName;
    private readonly string _data = Directory.CreateTempSubdirectory("safehaven-snapshot-data-").FullName;
    private StaticHttpServer? _upstream;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_upstreamRoot, "files"));
        foreach (var wheel in (string[])[Pip, Setuptools, Wheel])
        {
            File.Copy(Path.Combine("/usr/share/python-wheels", wheel), Path.Combine(_upstreamRoot, "files", wheel));
        }
        WritePage("pip", Pip);
        WritePage("setuptools", Setuptools);
        WritePage("wheel", Wheel);
        Directory.CreateDirectory(Path.Combine(_upstreamRoot, "simple"));
        File.WriteAllText(Path.Combine(_upstreamRoot, "simple", "index.html"),
            "<!DOCTYPE html>\n<html><body>\n<a href=\"pip/\">pip</a>\n<a href=\"setuptools/\">setuptools</a>\n<a href=\"wheel/\">wheel</a>\n</body></html>\n");
        File.WriteAllText(Path.Combine(_data, "allowlist-pypi.txt"), "pip\nsetuptools\n");
        _upstream = await StaticHttpServer.StartAsync(_upstreamRoot);
    }

    public async Task DisposeAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
        Directory.Delete(_upstreamRoot, recursive: true);
        Directory.Delete(_data, recursive: true);
    }

    private void WritePage(string project, params string[] files)
    {
        var directory = Path.Combine(_upstreamRoot, "simple", project);
        Directory.CreateDirectory(directory);
        var links = string.Concat(files.Select(f =>
        {
            var path = Path.Combine(_upstreamRoot, "files", f);
            var sha = File.Exists(path) ? Sha256(File.ReadAllBytes(path)) : new string('0', 64);
            return $"<a href=\"../../files/{f}#sha256={sha}\">{f}</a><br>\n";
        }));
        File.WriteAllText(Path.Combine(directory, "index.html"), $"<!DOCTYPE html>\n<html><body>\n<h1>Links for {project}</h1>\n{links}</body></html>\n");
    }

    /// <summary>Tier 3 with a sync schedule (the mirror serves its snapshots); without upstream, a snapshot-only mirror.</summary>
    private Dictionary<string, string> Settings(bool withUpstream = true)
    {
        var settings = new Dictionary<string, string>
        {
            ["Tier"] = "3",
            ["Policy:MinimumAgeDays"] = "0",
            ["Policy:AllowlistFiles:pypi"] = Path.Combine(_data, "allowlist-pypi.txt"),
            ["Mirrors:pypi:Enabled"] = "true",
        };
        if (withUpstream)
        {
            settings["Mirrors:pypi:Sync:Schedule"] = "0 0 2 * * ?";
            settings["Mirrors:pypi:Upstream"] = new Uri(_upstream!.BaseUrl, "simple/").ToString();
        }
        return settings;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string? accept = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }
        configure?.Invoke(request);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task A_tier3_snapshot_serves_pip_with_the_upstream_stopped()
    {
        await using var host = await SnapshotHost.StartAsync(_data, Settings());
        var captured = new CapturedEntries();
        var record = await host.SyncAsync("pypi", captured);

        // The root (JSON and HTML), the two allowlisted projects (JSON and HTML) and their wheels; nothing of "wheel".
        var manifest = await host.Services.GetRequiredService<SnapshotManifests>().LoadAsync(record.Id, CancellationToken.None);
        Assert.Equal(
            ["packages/pip/" + Pip, "packages/setuptools/" + Setuptools, "simple/", "simple/", "simple/pip/", "simple/pip/", "simple/setuptools/", "simple/setuptools/"],
            manifest.Entries.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.Equal((6, 2), (record.Documents, record.Artifacts));
        // Progress was reported for each entry as it was captured (what /api/sync shows of a run in progress).
        Assert.Equal(manifest.Entries.OrderBy(e => e.Path, StringComparer.Ordinal).ThenBy(e => e.MediaType, StringComparer.Ordinal),
            captured.Entries.OrderBy(e => e.Path, StringComparer.Ordinal).ThenBy(e => e.MediaType, StringComparer.Ordinal));
        Assert.Equal(3, manifest.Tier);
        Assert.Null(manifest.Parent);

        await _upstream!.StopAsync();

        using var root = await GetAsync(host.Client, "/pypi/simple/", PipAccept);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal("application/vnd.pypi.simple.v1+json", root.Content.Headers.ContentType!.MediaType);
        Assert.Equal(record.Id, root.Headers.GetValues("X-SafeHaven-Snapshot").Single());
        Assert.Contains("Accept", root.Headers.Vary);
        using (var json = JsonDocument.Parse(await root.Content.ReadAsStringAsync()))
        {
            Assert.Equal(["pip", "setuptools"], json.RootElement.GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        }
        using var html = await GetAsync(host.Client, "/pypi/simple/pip/", "text/html");
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        Assert.Contains("../../packages/pip/" + Pip, await html.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var noAccept = await GetAsync(host.Client, "/pypi/simple/pip/");
        Assert.Equal("text/html", noAccept.Content.Headers.ContentType!.MediaType);
        using var refused = await GetAsync(host.Client, "/pypi/simple/pip/", "application/vnd.pypi.simple.v1+html, text/html;q=0");
        Assert.Equal(HttpStatusCode.NotAcceptable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);

        // The wheel, whole, by range, conditionally and by HEAD.
        var expected = await File.ReadAllBytesAsync(Path.Combine("/usr/share/python-wheels", Pip));
        using var whole = await GetAsync(host.Client, "/pypi/packages/pip/" + Pip);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(expected, await whole.Content.ReadAsByteArrayAsync());
        var etag = whole.Headers.ETag!.Tag;
        Assert.Equal("\"" + Sha256(expected) + "\"", etag);
        using var range = await GetAsync(host.Client, "/pypi/packages/pip/" + Pip, configure: r => r.Headers.Range = new RangeHeaderValue(100, 163));
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal($"bytes 100-163/{expected.Length}", range.Content.Headers.ContentRange!.ToString());
        Assert.Equal(expected[100..164], await range.Content.ReadAsByteArrayAsync());
        using var suffix = await GetAsync(host.Client, "/pypi/packages/pip/" + Pip, configure: r => r.Headers.Range = new RangeHeaderValue(null, 10));
        Assert.Equal(expected[^10..], await suffix.Content.ReadAsByteArrayAsync());
        using var beyond = await GetAsync(host.Client, "/pypi/packages/pip/" + Pip, configure: r => r.Headers.Range = new RangeHeaderValue(expected.Length, null));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyond.StatusCode);
        using var notModified = await GetAsync(host.Client, "/pypi/packages/pip/" + Pip, configure: r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etag)));
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        using var head = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/pypi/packages/pip/" + Pip));
        Assert.Equal(expected.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        // A missing trailing slash is redirected; what the snapshot does not hold is 404 at Tier 3 (no live fall-through).
        using var slashless = await GetAsync(host.Client, "/pypi/simple/setuptools");
        Assert.Equal(HttpStatusCode.MovedPermanently, slashless.StatusCode);
        Assert.Equal("/pypi/simple/setuptools/", slashless.Headers.Location!.ToString());
        using var outside = await GetAsync(host.Client, "/pypi/simple/wheel/", PipAccept);
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
        Assert.Contains(record.Id[..12], await outside.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The same appliance restarted with no upstream at all (an import-only appliance) serves the same snapshot.
        await host.DisposeAsync();
        await using var snapshotOnly = await SnapshotHost.StartAsync(_data, Settings(withUpstream: false));
        Assert.Empty(snapshotOnly.Services.GetServices<Core.Catalog.IMirrorEcosystem>());
        using var offline = await GetAsync(snapshotOnly.Client, "/pypi/packages/setuptools/" + Setuptools);
        Assert.Equal(HttpStatusCode.OK, offline.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine("/usr/share/python-wheels", Setuptools)), await offline.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Dated_urls_keep_serving_an_earlier_snapshot_after_a_new_sync()
    {
        var clock = new MovableClock(TimeSpan.FromDays(-2));
        await using var host = await SnapshotHost.StartAsync(_data, Settings(), clock);
        var first = await host.SyncAsync("pypi");
        var firstDay = first.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        // Upstream drops the setuptools wheel from its page; two days later the next sync takes that in.
        WritePage("setuptools");
        clock.Offset = TimeSpan.Zero;
        var second = await host.SyncAsync("pypi");
        var today = second.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(first.Id, (await host.Services.GetRequiredService<SnapshotManifests>().LoadAsync(second.Id, CancellationToken.None)).Parent);
        await _upstream!.StopAsync();

        async Task<string> PageAsync(string path)
        {
            using var response = await GetAsync(host.Client, path, PipAccept);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }
        Assert.DoesNotContain(Setuptools, await PageAsync("/pypi/simple/setuptools/"), StringComparison.Ordinal);
        Assert.DoesNotContain(Setuptools, await PageAsync($"/pypi/@{today}/simple/setuptools/"), StringComparison.Ordinal);
        Assert.Contains(Setuptools, await PageAsync($"/pypi/@{firstDay}/simple/setuptools/"), StringComparison.Ordinal);
        Assert.Contains(Setuptools, await PageAsync($"/pypi/@{first.Id[..10]}/simple/setuptools/"), StringComparison.Ordinal);
        using (var wheel = await GetAsync(host.Client, $"/pypi/@{firstDay}/packages/setuptools/{Setuptools}"))
        {
            Assert.Equal(HttpStatusCode.OK, wheel.StatusCode);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine("/usr/share/python-wheels", Setuptools)), await wheel.Content.ReadAsByteArrayAsync());
        }
        using (var id = await GetAsync(host.Client, $"/pypi/@{first.Id[..10]}/simple/"))
        {
            Assert.Contains("immutable", id.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        }
        using (var bare = await GetAsync(host.Client, $"/pypi/@{firstDay}"))
        {
            Assert.Equal(HttpStatusCode.MovedPermanently, bare.StatusCode);
            Assert.Equal($"/pypi/@{firstDay}/", bare.Headers.Location!.ToString());
        }

        // Before the first snapshot, an unknown id, a selector that is neither: 404 problems that say which.
        foreach (var (path, says) in new[]
        {
            ("/pypi/@2000-01-01/simple/", "on or before 2000-01-01"),
            ("/pypi/@0123456789abcdef/simple/", "starting with 0123456789abcdef"),
            ("/pypi/@latest/simple/", "neither a UTC day"),
            ($"/pypi/@{first.Id[..8]}/simple/nothing-here/", first.Id[..12]),
        })
        {
            using var response = await GetAsync(host.Client, path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            Assert.Contains(says, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_capture_that_fails_midway_leaves_the_previous_snapshot_current_and_nothing_new_visible()
    {
        await using var host = await SnapshotHost.StartAsync(_data, Settings());
        var first = await host.SyncAsync("pypi");

        // Within the index TTL, upstream lists a new pip file it cannot deliver: the capture revalidates the page
        // (conditional GET, not the cached copy), sees the file, and its download fails.
        const string Missing = "pip-99.0-py3-none-any.whl";
        WritePage("pip", Pip, Missing);
        var error = await Assert.ThrowsAsync<SnapshotCaptureException>(() => host.SyncAsync("pypi"));
        Assert.Contains(Missing, error.Message, StringComparison.Ordinal);

        var store = host.Services.GetRequiredService<ISnapshotStore>();
        Assert.Equal(first.Id, (await store.GetCurrentAsync("pypi", CancellationToken.None))!.Id);
        Assert.Single(await store.ListAsync("pypi", CancellationToken.None));
        using var page = await GetAsync(host.Client, "/pypi/simple/pip/", PipAccept);
        Assert.Equal(first.Id, page.Headers.GetValues("X-SafeHaven-Snapshot").Single());
        Assert.DoesNotContain(Missing, await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task At_tier2_a_snapshot_holds_the_named_packages_and_a_miss_falls_through_to_the_live_mirror()
    {
        await using var host = await SnapshotHost.StartAsync(_data, new Dictionary<string, string>
        {
            ["Tier"] = "2",
            ["Policy:MinimumAgeDays"] = "0",
            ["Mirrors:pypi:Upstream"] = new Uri(_upstream!.BaseUrl, "simple/").ToString(),
            ["Mirrors:pypi:Sync:Schedule"] = "0 0 2 * * ?",
            ["Mirrors:pypi:Sync:Packages:0"] = "PIP",
        });
        var record = await host.SyncAsync("pypi");

        // The root lists all of upstream; only pip's page is taken, and no file (no prefetch at Tier 2 by default).
        var manifest = await host.Services.GetRequiredService<SnapshotManifests>().LoadAsync(record.Id, CancellationToken.None);
        Assert.Equal(["simple/", "simple/", "simple/pip/", "simple/pip/"], manifest.Entries.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.Equal(0, record.Artifacts);

        using var pip = await GetAsync(host.Client, "/pypi/simple/pip/", PipAccept);
        Assert.Equal(record.Id, pip.Headers.GetValues("X-SafeHaven-Snapshot").Single());
        using var setuptools = await GetAsync(host.Client, "/pypi/simple/setuptools/", PipAccept);
        Assert.Equal(HttpStatusCode.OK, setuptools.StatusCode);
        Assert.False(setuptools.Headers.Contains("X-SafeHaven-Snapshot"));
        Assert.Contains(Setuptools, await setuptools.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var wheel = await GetAsync(host.Client, "/pypi/packages/pip/" + Pip);
        Assert.Equal(HttpStatusCode.OK, wheel.StatusCode);
        Assert.False(wheel.Headers.Contains("X-SafeHaven-Snapshot"));
    }

    private sealed class CapturedEntries : IProgress<SnapshotEntry>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<SnapshotEntry> _entries = new();

        public IEnumerable<SnapshotEntry> Entries => _entries;

        public void Report(SnapshotEntry value) => _entries.Enqueue(value);
    }
}
