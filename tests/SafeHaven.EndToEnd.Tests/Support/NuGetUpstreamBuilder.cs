using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>A dependency group of a tiny package: a target framework and its dependencies (id, NuGet range).</summary>
public sealed record TinyNuGetGroup(string TargetFramework, IReadOnlyList<(string Id, string Range)> Dependencies);

/// <summary>
/// A tiny NuGet package version. <paramref name="Paged"/> puts the package's registration on a linked page instead
/// of inline; <paramref name="HashInCatalogOnly"/> leaves <c>packageHash</c> out of the registration and writes it
/// to a catalog leaf instead, as the public registry's registrations do.
/// </summary>
public sealed record TinyNuGetPackage(
    string Id, string Version, DateTimeOffset Published, IReadOnlyList<TinyNuGetGroup>? Groups = null,
    bool Listed = true, bool Paged = false, bool HashInCatalogOnly = false);

/// <summary>
/// Builds a static NuGet v3 upstream: real <c>.nupkg</c> zips (a <c>.nuspec</c> plus a placeholder under
/// <c>lib/netstandard2.0/</c>), a flat container, registration indexes (inline or linked pages) with chosen
/// <c>published</c> dates and SHA-512 <c>packageHash</c>es, catalog leaves, and <c>v3/index.json</c>. Served by
/// nginx, the URLs in it are absolute, under <c>baseUrl</c>.
/// </summary>
public sealed class NuGetUpstreamBuilder(string root, Uri baseUrl)
{
    private readonly List<TinyNuGetPackage> _packages = [];

    public string Root => root;

    public string ServiceIndexUrl => new Uri(baseUrl, "v3/index.json").ToString();

    public string FlatContainerDirectory => Path.Combine(root, "v3", "flatcontainer");

    public NuGetUpstreamBuilder Add(params TinyNuGetPackage[] packages)
    {
        _packages.AddRange(packages);
        return this;
    }

    /// <summary>Where a package's file lives in the flat container.</summary>
    public string PackagePath(string id, string version)
    {
        var lower = id.ToLowerInvariant();
        return Path.Combine(FlatContainerDirectory, lower, version, $"{lower}.{version}.nupkg");
    }

    public async Task WriteAsync()
    {
        Directory.CreateDirectory(Path.Combine(root, "v3"));
        var url = baseUrl.ToString();
        await WriteJsonAsync(Path.Combine(root, "v3", "index.json"), new JsonObject
        {
            ["version"] = "3.0.0",
            ["resources"] = new JsonArray(
                Resource(url + "v3/flatcontainer/", "PackageBaseAddress/3.0.0"),
                Resource(url + "v3/registration/", "RegistrationsBaseUrl/3.6.0"),
                Resource(url + "v3/registration/", "RegistrationsBaseUrl"),
                Resource(url + "v3/query", "SearchQueryService")),
        });

        foreach (var package in _packages.GroupBy(p => p.Id.ToLowerInvariant()))
        {
            var lower = package.Key;
            var leaves = new JsonArray();
            var versions = new JsonArray();
            var registrationUrl = $"{url}v3/registration/{lower}/index.json";
            foreach (var version in package)
            {
                var path = PackagePath(version.Id, version.Version);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                WriteNupkg(path, version);
                var hash = Convert.ToBase64String(SHA512.HashData(await File.ReadAllBytesAsync(path)));
                var catalogUrl = $"{url}v3/catalog/{lower}.{version.Version}.json";
                Directory.CreateDirectory(Path.Combine(root, "v3", "catalog"));
                await WriteJsonAsync(Path.Combine(root, "v3", "catalog", $"{lower}.{version.Version}.json"), new JsonObject
                {
                    ["@id"] = catalogUrl,
                    ["id"] = version.Id,
                    ["version"] = version.Version,
                    ["packageHash"] = hash,
                    ["packageHashAlgorithm"] = "SHA512",
                });
                var entry = new JsonObject
                {
                    ["@id"] = catalogUrl,
                    ["@type"] = "PackageDetails",
                    ["id"] = version.Id,
                    ["version"] = version.Version,
                    ["published"] = version.Listed ? version.Published.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffff+00:00", System.Globalization.CultureInfo.InvariantCulture) : "1900-01-01T00:00:00+00:00",
                    ["listed"] = version.Listed,
                    ["authors"] = "SafeHaven",
                    ["description"] = $"SafeHaven end-to-end fixture {version.Id}",
                    ["packageContent"] = $"{url}v3/flatcontainer/{lower}/{version.Version}/{lower}.{version.Version}.nupkg",
                    ["dependencyGroups"] = new JsonArray((version.Groups ?? []).Select(g => (JsonNode)new JsonObject
                    {
                        ["targetFramework"] = g.TargetFramework,
                        ["dependencies"] = new JsonArray(g.Dependencies.Select(d => (JsonNode)new JsonObject { ["id"] = d.Id, ["range"] = d.Range }).ToArray()),
                    }).ToArray()),
                };
                if (!version.HashInCatalogOnly)
                {
                    entry["packageHash"] = hash;
                    entry["packageHashAlgorithm"] = "SHA512";
                }
                leaves.Add(new JsonObject
                {
                    ["@id"] = $"{url}v3/registration/{lower}/{version.Version}.json",
                    ["@type"] = "Package",
                    ["catalogEntry"] = entry,
                    ["packageContent"] = $"{url}v3/flatcontainer/{lower}/{version.Version}/{lower}.{version.Version}.nupkg",
                    ["registration"] = registrationUrl,
                });
                versions.Add(version.Version);
            }
            await WriteJsonAsync(Path.Combine(FlatContainerDirectory, lower, "index.json"), new JsonObject { ["versions"] = versions });

            var first = package.First().Version;
            var last = package.Last().Version;
            var page = new JsonObject
            {
                ["@id"] = $"{url}v3/registration/{lower}/page/{first}/{last}.json",
                ["@type"] = "catalog:CatalogPage",
                ["count"] = leaves.Count,
                ["lower"] = first,
                ["upper"] = last,
                ["parent"] = registrationUrl,
            };
            var directory = Path.Combine(root, "v3", "registration", lower);
            Directory.CreateDirectory(directory);
            if (package.Any(p => p.Paged))
            {
                var linked = (JsonObject)page.DeepClone();
                linked["items"] = leaves;
                Directory.CreateDirectory(Path.Combine(directory, "page", first));
                await WriteJsonAsync(Path.Combine(directory, "page", first, $"{last}.json"), linked);
            }
            else
            {
                page["items"] = leaves;
            }
            await WriteJsonAsync(Path.Combine(directory, "index.json"), new JsonObject
            {
                ["@id"] = registrationUrl,
                ["count"] = 1,
                ["items"] = new JsonArray(page),
            });
        }
    }

    /// <summary>Changes a package's bytes after its hash was published: what a compromised upstream would serve.</summary>
    public void Tamper(string id, string version)
    {
        using var zip = ZipFile.Open(PackagePath(id, version), ZipArchiveMode.Update);
        using var writer = new StreamWriter(zip.CreateEntry("tools/install.ps1").Open());
        writer.Write("Write-Host 'tampered'");
    }

    private static JsonObject Resource(string id, string type) => new() { ["@id"] = id, ["@type"] = type };

    private static Task WriteJsonAsync(string path, JsonNode node)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return File.WriteAllTextAsync(path, node.ToJsonString());
    }

    private static void WriteNupkg(string path, TinyNuGetPackage package)
    {
        XNamespace ns = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";
        var metadata = new XElement(ns + "metadata",
            new XElement(ns + "id", package.Id),
            new XElement(ns + "version", package.Version),
            new XElement(ns + "authors", "SafeHaven"),
            new XElement(ns + "description", $"SafeHaven end-to-end fixture {package.Id}"));
        if (package.Groups is { Count: > 0 } groups)
        {
            metadata.Add(new XElement(ns + "dependencies", groups.Select(g => new XElement(ns + "group",
                new XAttribute("targetFramework", g.TargetFramework),
                g.Dependencies.Select(d => new XElement(ns + "dependency", new XAttribute("id", d.Id), new XAttribute("version", d.Range)))))));
        }
        var nuspec = new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement(ns + "package", metadata));
        using var stream = File.Create(path);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create);
        using (var writer = new StreamWriter(zip.CreateEntry($"{package.Id}.nuspec").Open(), new UTF8Encoding(false)))
        {
            nuspec.Save(writer);
        }
        zip.CreateEntry("lib/netstandard2.0/_._");
    }
}

/// <summary>A real package file to publish on a bare feed: its id and version as the feed spells them, and the file.</summary>
public sealed record RealNuGetPackage(string Id, string Version, string File);

/// <summary>
/// Builds a <b>bare</b> NuGet v3 feed, the least complete shape a real feed has: the one reachable from these machines
/// (and many private feeds) serves a service index with only <c>PackageBaseAddress/3.0.0</c> and
/// <c>RegistrationsBaseUrl/3.6.0</c>, and registration leaves whose <c>catalogEntry</c> carries only <c>id</c>,
/// <c>version</c> and <c>listed</c>: no <c>published</c>, no <c>packageHash</c>, no <c>dependencyGroups</c>, no
/// <c>packageContent</c>, no catalog, no search. The packages are real signed <c>.nupkg</c> files (copied byte for byte).
/// </summary>
public static class BareNuGetFeed
{
    /// <summary>The local NuGet package folder, which <c>dotnet restore SafeHaven.sln</c> fills with the public gallery's signed originals.</summary>
    public static string LocalPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>A package from the local package folder; fails with what to do when the solution's restore has not put it there.</summary>
    public static RealNuGetPackage FromLocalFolder(string id, string version)
    {
        var lower = id.ToLowerInvariant();
        var file = Path.Combine(LocalPackagesFolder, lower, version, $"{lower}.{version}.nupkg");
        if (!File.Exists(file))
        {
            throw new InvalidOperationException($"{file} is missing: run 'dotnet restore SafeHaven.sln' first (the solution restores {id} {version})");
        }
        return new RealNuGetPackage(id, version, file);
    }

    /// <summary>Writes the feed into <paramref name="root"/> for a server at <paramref name="baseUrl"/>; returns its service index URL.</summary>
    public static async Task<string> WriteAsync(string root, Uri baseUrl, IEnumerable<RealNuGetPackage> packages)
    {
        var url = baseUrl.ToString();
        var v3 = Path.Combine(root, "v3");
        Directory.CreateDirectory(v3);
        await File.WriteAllTextAsync(Path.Combine(v3, "index.json"), new JsonObject
        {
            ["version"] = "3.0.0",
            ["resources"] = new JsonArray(
                new JsonObject { ["@id"] = url + "v3/flatcontainer/", ["@type"] = "PackageBaseAddress/3.0.0" },
                new JsonObject { ["@id"] = url + "v3/registration/", ["@type"] = "RegistrationsBaseUrl/3.6.0" }),
        }.ToJsonString());
        foreach (var package in packages.GroupBy(p => p.Id.ToLowerInvariant()))
        {
            var lower = package.Key;
            var versions = new JsonArray();
            var leaves = new JsonArray();
            foreach (var version in package)
            {
                var directory = Path.Combine(v3, "flatcontainer", lower, version.Version);
                Directory.CreateDirectory(directory);
                File.Copy(version.File, Path.Combine(directory, $"{lower}.{version.Version}.nupkg"));
                versions.Add(version.Version);
                leaves.Add(new JsonObject
                {
                    ["catalogEntry"] = new JsonObject { ["id"] = version.Id, ["version"] = version.Version, ["listed"] = true },
                });
            }
            await File.WriteAllTextAsync(Path.Combine(v3, "flatcontainer", lower, "index.json"), new JsonObject { ["versions"] = versions }.ToJsonString());
            var registration = Path.Combine(v3, "registration", lower);
            Directory.CreateDirectory(registration);
            await File.WriteAllTextAsync(Path.Combine(registration, "index.json"), new JsonObject
            {
                ["count"] = 1,
                ["items"] = new JsonArray(new JsonObject { ["count"] = leaves.Count, ["items"] = leaves }),
            }.ToJsonString());
        }
        return url + "v3/index.json";
    }

    /// <summary>
    /// Re-zips a signed package with one more file, keeping its signature file: what a compromised mirror would
    /// serve. The zip stays valid, but the content no longer matches the hash inside the signature.
    /// </summary>
    public static void TamperSigned(string nupkg)
    {
        using var zip = ZipFile.Open(nupkg, ZipArchiveMode.Update);
        using var writer = new StreamWriter(zip.CreateEntry("tools/init.ps1").Open());
        writer.Write("Write-Host 'tampered'");
    }
}
