using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;
using SafeHaven.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Conda;

/// <summary>One record rattler solved to, as <c>tests/tools/rattler/solve.cjs</c> prints it.</summary>
public sealed record SolvedRecord(
    string Name, string Version, string Build, long? BuildNumber, string? Subdir, string Filename, string Url,
    string? Sha256, string? Md5, long? Size, IReadOnlyList<string> Depends);

/// <summary>What a client gets for one solved file: the status, and the sha256 and size of the body it received.</summary>
public sealed record CondaDownload(HttpStatusCode Status, string Sha256, long Size);

/// <summary>
/// The real rattler (npm <c>@conda-org/rattler</c>, WebAssembly in Node: the solver under pixi and conda's newer
/// tools) solving match specs against one channel URL through <c>tests/tools/rattler/solve.cjs</c>; it reads the
/// channel's repodata itself. Like a client after its solve, <see cref="DownloadAsync"/> fetches a solved file from
/// its <c>url</c> and hashes what came.
/// </summary>
public static class Rattler
{
    /// <summary>The platforms solved for: a Linux x86-64 machine, which also takes <c>noarch</c>.</summary>
    public const string Platforms = "linux-64,noarch";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    public sealed record SolveResult(ProcessResult Process, IReadOnlyList<SolvedRecord> Records)
    {
        public bool Succeeded => Process.ExitCode == 0;

        /// <summary>The solved records as <c>name version</c>, sorted, for exact comparison.</summary>
        public IReadOnlyList<string> Solution => [.. Records.Select(r => $"{r.Name} {r.Version}").Order(StringComparer.Ordinal)];

        public SolvedRecord this[string name] => Records.Single(r => r.Name == name);
    }

    /// <summary>Solves <paramref name="specs"/> against <paramref name="channel"/> (a channel base URL ending in <c>/</c>).</summary>
    public static async Task<SolveResult> SolveAsync(Uri channel, params string[] specs)
    {
        var tool = Path.Combine(RepositoryRoot.Path, "tests", "tools", "rattler");
        if (!Directory.Exists(Path.Combine(tool, "node_modules", "@conda-org", "rattler")))
        {
            throw new InvalidOperationException($"rattler is not installed: run `npm ci --prefix {tool}` (tests/run.sh does).");
        }
        // Node's fetch would not use a proxy anyway; the variables are removed so nothing can route it off loopback.
        var result = await ProcessRunner.RunAsync("node", [Path.Combine(tool, "solve.cjs"), channel.ToString(), Platforms, .. specs], tool,
            new Dictionary<string, string?> { ["HTTP_PROXY"] = null, ["HTTPS_PROXY"] = null, ["http_proxy"] = null, ["https_proxy"] = null, ["NODE_USE_ENV_PROXY"] = null },
            TimeSpan.FromMinutes(1));
        var records = result.ExitCode == 0
            ? JsonSerializer.Deserialize<List<SolvedRecord>>(result.StandardOutput, Json) ?? throw new InvalidOperationException("rattler printed null")
            : [];
        return new SolveResult(result, records);
    }

    /// <summary>Downloads a solved record's <c>url</c> and hashes the body.</summary>
    public static async Task<CondaDownload> DownloadAsync(SolvedRecord record) => await DownloadAsync(new Uri(record.Url));

    public static async Task<CondaDownload> DownloadAsync(Uri url)
    {
        using var response = await Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long size = 0;
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                size += read;
            }
        }
        catch (HttpRequestException) when (response.IsSuccessStatusCode)
        {
            // A body cut short after a 200 is a failed download, as a client sees it; reported by the short size.
        }
        catch (IOException) when (response.IsSuccessStatusCode)
        {
        }
        return new CondaDownload(response.StatusCode, Convert.ToHexStringLower(sha.GetHashAndReset()), size);
    }
}
