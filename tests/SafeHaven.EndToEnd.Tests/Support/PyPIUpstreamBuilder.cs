using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>A tiny Python project built into a real wheel with <c>pip wheel</c>.</summary>
public sealed record TinyProject(string Name, string Version, DateTimeOffset Uploaded, IReadOnlyList<string>? Dependencies = null, string? RequiresPython = null);

/// <summary>
/// Builds a static PEP 691 (JSON, api-version 1.1) repository: real wheels with chosen upload times, a PEP 658
/// <c>.metadata</c> file beside each wheel, <c>simple/&lt;project&gt;/index.json</c> per project and a root index.
/// </summary>
public sealed class PyPIUpstreamBuilder
{
    private readonly string _root;
    private readonly Dictionary<string, List<JsonObject>> _files = new(StringComparer.Ordinal);

    public PyPIUpstreamBuilder(string root)
    {
        _root = root;
        Directory.CreateDirectory(FilesDirectory);
    }

    public string FilesDirectory => Path.Combine(_root, "files");

    /// <summary>Builds every project's wheel in one <c>pip wheel</c> run of Debian's python3 and adds them.</summary>
    public async Task AddBuiltProjectsAsync(IReadOnlyList<TinyProject> projects)
    {
        var sources = Directory.CreateTempSubdirectory("safehaven-src-").FullName;
        var output = Directory.CreateTempSubdirectory("safehaven-wheels-").FullName;
        var directories = new List<string>();
        foreach (var project in projects)
        {
            var directory = Path.Combine(sources, $"{project.Name}-{project.Version}");
            var module = project.Name.Replace('-', '_');
            Directory.CreateDirectory(Path.Combine(directory, module));
            await File.WriteAllTextAsync(Path.Combine(directory, module, "__init__.py"), $"VERSION = \"{project.Version}\"\n");
            var dependencies = string.Join(", ", (project.Dependencies ?? []).Select(d => JsonSerializer.Serialize(d)));
            var requiresPython = project.RequiresPython is null ? "" : $"requires-python = {JsonSerializer.Serialize(project.RequiresPython)}\n";
            await File.WriteAllTextAsync(Path.Combine(directory, "pyproject.toml"), $"""
                [build-system]
                requires = ["setuptools"]
                build-backend = "setuptools.build_meta"

                [project]
                name = "{project.Name}"
                version = "{project.Version}"
                description = "SafeHaven end-to-end fixture"
                dependencies = [{dependencies}]
                {requiresPython}
                [tool.setuptools]
                packages = ["{module}"]
                """);
            directories.Add(directory);
        }
        // Debian's python3 with its pip, setuptools and wheel: no index is consulted, nothing leaves the machine.
        // pip builds one version of a project per run, so the builds go in rounds.
        var rounds = projects.Select((p, i) => (Directory: directories[i], Round: projects.Take(i).Count(q => q.Name == p.Name)))
            .GroupBy(x => x.Round, x => x.Directory);
        foreach (var round in rounds)
        {
            await ProcessRunner.RunCheckedAsync("/usr/bin/python3",
                ["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--disable-pip-version-check", "-w", output, .. round],
                environment: PipEnvironment.Isolated(), timeout: TimeSpan.FromMinutes(5));
        }
        foreach (var project in projects)
        {
            var wheel = Directory.EnumerateFiles(output, $"{project.Name.Replace('-', '_')}-{project.Version}-*.whl").Single();
            AddWheel(project.Name, wheel, project.Uploaded, project.RequiresPython);
        }
        Directory.Delete(sources, recursive: true);
        Directory.Delete(output, recursive: true);
    }

    /// <summary>Adds an existing wheel (e.g. Debian's pip or setuptools wheel) with its PEP 658 metadata file.</summary>
    public void AddWheel(string project, string wheelPath, DateTimeOffset uploaded, string? requiresPython = null)
    {
        var filename = Path.GetFileName(wheelPath);
        var target = Path.Combine(FilesDirectory, filename);
        File.Copy(wheelPath, target, overwrite: true);
        string metadataText;
        using (var archive = ZipFile.OpenRead(target))
        {
            var entry = archive.Entries.Single(e => e.FullName.EndsWith(".dist-info/METADATA", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1);
            using var reader = new StreamReader(entry.Open());
            metadataText = reader.ReadToEnd();
        }
        File.WriteAllText(target + ".metadata", metadataText);
        var file = new JsonObject
        {
            ["filename"] = filename,
            ["url"] = "../../files/" + Uri.EscapeDataString(filename),
            ["hashes"] = new JsonObject { ["sha256"] = Sha256(target) },
            ["core-metadata"] = new JsonObject { ["sha256"] = Sha256(target + ".metadata") },
            ["yanked"] = false,
            ["size"] = new FileInfo(target).Length,
            ["upload-time"] = uploaded.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'"),
        };
        if (requiresPython is not null)
        {
            file["requires-python"] = requiresPython;
        }
        var key = Normalize(project);
        if (!_files.TryGetValue(key, out var list))
        {
            _files[key] = list = [];
        }
        list.Add(file);
    }

    /// <summary>Changes a stored file after its hash was recorded, as a compromised upstream or mirror would.</summary>
    public void Tamper(string filename)
    {
        using var stream = new FileStream(Path.Combine(FilesDirectory, filename), FileMode.Append);
        stream.Write("tampered"u8);
    }

    public async Task WriteIndexesAsync()
    {
        var simple = Path.Combine(_root, "simple");
        foreach (var (project, files) in _files)
        {
            var directory = Path.Combine(simple, project);
            Directory.CreateDirectory(directory);
            var versions = files.Select(f => f["filename"]!.GetValue<string>().Split('-')[1]).Distinct().ToList();
            var page = new JsonObject
            {
                ["meta"] = new JsonObject { ["api-version"] = "1.1" },
                ["name"] = project,
                ["versions"] = new JsonArray(versions.Select(v => (JsonNode)v).ToArray()),
                ["files"] = new JsonArray(files.Select(f => (JsonNode)f.DeepClone()).ToArray()),
            };
            await File.WriteAllTextAsync(Path.Combine(directory, "index.json"), page.ToJsonString());
        }
        var root = new JsonObject
        {
            ["meta"] = new JsonObject { ["api-version"] = "1.1" },
            ["projects"] = new JsonArray(_files.Keys.Order().Select(n => (JsonNode)new JsonObject { ["name"] = n }).ToArray()),
        };
        Directory.CreateDirectory(simple);
        await File.WriteAllTextAsync(Path.Combine(simple, "index.json"), root.ToJsonString());
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string Normalize(string name) => System.Text.RegularExpressions.Regex.Replace(name, "[-_.]+", "-").ToLowerInvariant();
}

/// <summary>Environment for pip processes: no user or site configuration, no cache, no extra sources, no proxies.</summary>
public static class PipEnvironment
{
    public static Dictionary<string, string?> Isolated() => new()
    {
        ["PIP_CONFIG_FILE"] = "/dev/null",
        ["PIP_FIND_LINKS"] = null,
        ["PIP_INDEX_URL"] = null,
        ["PIP_EXTRA_INDEX_URL"] = null,
        ["PIP_NO_CACHE_DIR"] = "1",
        ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1",
        ["PIP_NO_INPUT"] = "1",
        ["PIP_DEFAULT_TIMEOUT"] = "60",
        ["http_proxy"] = null,
        ["https_proxy"] = null,
        ["HTTP_PROXY"] = null,
        ["HTTPS_PROXY"] = null,
        ["no_proxy"] = "127.0.0.1,localhost",
    };
}
