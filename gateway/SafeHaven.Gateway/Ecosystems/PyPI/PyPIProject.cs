using System.Text.Json.Serialization;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>
/// One file of a project as upstream lists it. <see cref="Url"/> is the absolute upstream URL; clients never see it.
/// <see cref="UploadTime"/> is upstream's PEP 700 <c>upload-time</c> string, kept verbatim to pass through unchanged.
/// </summary>
public sealed record PyPIFile
{
    public required string Filename { get; init; }
    public required string Url { get; init; }
    public string? Sha256 { get; init; }
    public string? RequiresPython { get; init; }
    /// <summary>Whether upstream serves the PEP 658 core metadata at <c>Url + ".metadata"</c>.</summary>
    public bool CoreMetadata { get; init; }
    public string? CoreMetadataSha256 { get; init; }
    public bool Yanked { get; init; }
    public string? YankedReason { get; init; }
    public long? Size { get; init; }
    public string? UploadTime { get; init; }
}

/// <summary>A project page as upstream serves it, parsed from PEP 691 JSON or PEP 503 HTML.</summary>
public sealed record PyPIProject
{
    public required string Name { get; init; }
    public required IReadOnlyList<PyPIFile> Files { get; init; }

    /// <summary>
    /// PEP 700 <c>versions</c> as upstream lists them (it may name versions that have no files left), or null
    /// when upstream gives none (PEP 503 HTML, or JSON api-version 1.0).
    /// </summary>
    public IReadOnlyList<string>? Versions { get; init; }
}

/// <summary>The root index: project names only.</summary>
public sealed record PyPIProjectList(IReadOnlyList<string> Names);

[JsonSerializable(typeof(PyPIProject))]
[JsonSerializable(typeof(PyPIProjectList))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class PyPIStorageJsonContext : JsonSerializerContext;
