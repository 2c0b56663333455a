using System.Text.Json;
using System.Text.Json.Serialization;

namespace SafeHaven.Core.Tiers.Sharing;

/// <summary>
/// An <see cref="AllowlistClosure"/> as stored for other replicas: everything the gate, the index pages and the
/// closure report read, so a replica that adopts it serves exactly what the one that computed it serves.
/// </summary>
internal sealed record ClosureDocument(
    string Ecosystem,
    DateTimeOffset ComputedAt,
    IReadOnlyList<string> Roots,
    IReadOnlyList<string> Packages,
    IReadOnlyList<ClosureDocument.Unsatisfiable> Unsatisfied,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Extras,
    IReadOnlyList<string> ModelApproved,
    IReadOnlyList<ClosureDocument.Unapproved> UnapprovedDependencies,
    IReadOnlyDictionary<string, IReadOnlyList<string>> RequiredBy,
    IReadOnlyList<string> ImplicitRoots)
{
    internal sealed record Unsatisfiable(string Root, IReadOnlyList<string> Path, string Requirement, string Reason);

    internal sealed record Unapproved(string Package, IReadOnlyList<string> RequiredBy, double? Score, string Note);

    public static ClosureDocument From(AllowlistClosure closure) => new(
        closure.Ecosystem,
        closure.ComputedAt,
        closure.Roots,
        closure.Packages.Order(StringComparer.Ordinal).ToList(),
        closure.Unsatisfied.Select(u => new Unsatisfiable(u.Root, u.Path, u.Requirement, u.Reason)).ToList(),
        closure.Extras.Where(p => p.Value.Count > 0).ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value.Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal),
        closure.ModelApproved,
        closure.UnapprovedDependencies.Select(u => new Unapproved(u.Package, u.RequiredBy, u.Score, u.Note)).ToList(),
        closure.RequiredBy.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
        closure.ImplicitRoots);

    public AllowlistClosure ToClosure()
    {
        // Every package of the closure has an extras set (possibly empty), as the closure engine builds it.
        var extras = Packages.ToDictionary(p => p, p => (IReadOnlySet<string>)(Extras.TryGetValue(p, out var e)
            ? e.ToHashSet(StringComparer.Ordinal) : new HashSet<string>(StringComparer.Ordinal)), StringComparer.Ordinal);
        return new AllowlistClosure(Ecosystem, ComputedAt, Roots, Packages,
            Unsatisfied.Select(u => new UnsatisfiedDependency(u.Root, u.Path, u.Requirement, u.Reason)).ToList(), extras)
        {
            ModelApproved = ModelApproved,
            UnapprovedDependencies = UnapprovedDependencies.Select(u => new UnapprovedDependency(u.Package, u.RequiredBy, u.Score, u.Note)).ToList(),
            RequiredBy = RequiredBy.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
            ImplicitRoots = ImplicitRoots,
        };
    }

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, ClosureDocumentContext.Default.ClosureDocument);

    /// <summary>Reads a stored document; a document this code cannot read is refused with the reason (fail closed: the stored one is not adopted).</summary>
    public static ClosureDocument Parse(ReadOnlySpan<byte> utf8) =>
        JsonSerializer.Deserialize(utf8, ClosureDocumentContext.Default.ClosureDocument)
        ?? throw new JsonException("the stored allowlist closure is empty");
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ClosureDocument))]
internal sealed partial class ClosureDocumentContext : JsonSerializerContext;
