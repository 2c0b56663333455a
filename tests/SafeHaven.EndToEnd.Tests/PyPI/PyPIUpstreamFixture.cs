using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// One static upstream for all PyPI end-to-end tests: real wheels built with <c>pip wheel</c> from tiny projects
/// with dependencies between them, plus Debian's own pip and setuptools wheels, with chosen upload times, served
/// by a real nginx on loopback.
/// </summary>
public sealed class PyPIUpstreamFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private NginxServer? _nginx;

    public string Root { get; } = Directory.CreateTempSubdirectory("safehaven-pypi-upstream-").FullName;

    public NginxServer Nginx => _nginx ?? throw new InvalidOperationException("not started");

    public string UpstreamUrl => new Uri(Nginx.BaseUrl, "simple/").ToString();

    public string TamperedFilename { get; private set; } = "";

    /// <summary>An OSV advisory naming shfixed 1.1 as the fix.</summary>
    public const string Advisory = """
        {
          "schema_version": "1.6.0",
          "id": "PYSEC-0000-SH1",
          "modified": "2026-11-01T00:00:00Z",
          "published": "2026-11-01T00:00:00Z",
          "summary": "Remote code execution in shfixed",
          "affected": [
            {
              "package": { "ecosystem": "PyPI", "name": "shfixed" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "0" }, { "fixed": "1.1" } ] } ],
              "versions": [ "1.0" ]
            }
          ]
        }
        """;

    public async Task InitializeAsync()
    {
        var builder = new PyPIUpstreamBuilder(Root);
        var old = Now.AddDays(-60);
        var older = Now.AddDays(-90);
        var recent = Now.AddDays(-30);
        var fresh = Now.AddDays(-1);
        await builder.AddBuiltProjectsAsync([
            new("shalpha", "1.0", older),
            new("shalpha", "2.0", recent),
            new("shalpha", "3.0", fresh),
            new("shfixed", "1.0", old),
            new("shfixed", "1.1", fresh),
            new("shapp", "1.0", old, ["shlib>=1.0", "shwin; sys_platform == 'win32'", "shtest; extra == 'test'"]),
            new("shlib", "0.9", older),
            new("shlib", "1.0", old),
            new("shlib", "1.1", fresh),
            new("shother", "1.0", old),
            new("shbroken", "1.0", old, ["shmissing>=1.0"]),
            new("shtampered", "1.0", old),
        ]);
        builder.AddWheel("pip", "/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl", old, ">=3.7");
        builder.AddWheel("setuptools", "/usr/share/python-wheels/setuptools-66.1.1-py3-none-any.whl", old, ">=3.7");
        TamperedFilename = Path.GetFileName(Directory.EnumerateFiles(builder.FilesDirectory, "shtampered-1.0-*.whl").Single());
        await builder.WriteIndexesAsync();
        builder.Tamper(TamperedFilename);
        _nginx = await NginxServer.StartAsync(Root);
    }

    public async Task DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>Appliance settings for a tier against this upstream.</summary>
    public Dictionary<string, string> Settings(int tier) => new()
    {
        ["Tier"] = tier.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Mirrors:pypi:Upstream"] = UpstreamUrl,
        ["Mirrors:pypi:TargetEnvironment:sys_platform"] = "linux",
        ["Mirrors:pypi:TargetEnvironment:os_name"] = "posix",
        ["Policy:MinimumAgeDays"] = "7",
        ["Policy:MaximumLagDays"] = "42",
    };
}

[CollectionDefinition(Name)]
public sealed class PyPICollection : ICollectionFixture<PyPIUpstreamFixture>
{
    public const string Name = "PyPI end to end";
}
