using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SafeHaven.Core.Tests.Packages;

/// <summary>One question for rattler: see tests/tools/rattler/versions.cjs for the kinds.</summary>
internal sealed record OracleCase(
    string Kind,
    string? Text = null,
    string? A = null,
    string? B = null,
    string? Spec = null,
    string? Version = null)
{
    public static OracleCase ParseVersion(string text) => new("version", Text: text);
    public static OracleCase Compare(string a, string b) => new("compare", A: a, B: b);
    public static OracleCase StartsWith(string a, string b) => new("startsWith", A: a, B: b);
    public static OracleCase ParseSpec(string text) => new("spec", Text: text);
    public static OracleCase Matches(string spec, string version) => new("matches", Spec: spec, Version: version);

    public override string ToString() => Kind switch
    {
        "version" or "spec" => $"{Kind} '{Text}'",
        "matches" => $"'{Spec}' matches '{Version}'",
        _ => $"{Kind} '{A}' '{B}'",
    };
}

/// <summary>rattler's answer: <see cref="Ok"/> false when rattler refused a string (its message in <see cref="Error"/>).</summary>
internal sealed record OracleAnswer(bool Ok, JsonElement Value, string? Error);

/// <summary>
/// Asks the real rattler (the npm package <c>@conda-org/rattler</c>, WebAssembly in Node, pinned in
/// <c>tests/tools/rattler</c> and installed there by tests/run.sh with <c>npm ci</c>) a batch of questions in one Node
/// process, through <c>tests/tools/rattler/versions.cjs</c>.
/// </summary>
internal static class RattlerOracle
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static IReadOnlyList<OracleAnswer> Ask(IReadOnlyList<OracleCase> cases)
    {
        var tool = Path.Combine(RepositoryRoot(), "tests", "tools", "rattler");
        var script = Path.Combine(tool, "versions.cjs");
        if (!Directory.Exists(Path.Combine(tool, "node_modules", "@conda-org", "rattler")))
        {
            throw new InvalidOperationException($"rattler is not installed: run `npm ci --prefix {tool}` (tests/run.sh does).");
        }
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = tool,
        };
        start.ArgumentList.Add(script);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(JsonSerializer.Serialize(cases, Json));
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("rattler (node versions.cjs) did not answer within 3 minutes.");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"node versions.cjs exited with {process.ExitCode}: {errors.Result}");
        }
        var answers = JsonSerializer.Deserialize<List<OracleAnswer>>(output.Result, Json)
            ?? throw new InvalidOperationException("rattler answered nothing.");
        if (answers.Count != cases.Count)
        {
            throw new InvalidOperationException($"rattler answered {answers.Count} of {cases.Count} questions: {errors.Result}");
        }
        return answers;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SafeHaven.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No SafeHaven.sln above {AppContext.BaseDirectory}.");
    }
}
